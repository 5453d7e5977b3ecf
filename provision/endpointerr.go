package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// An endpoint, a proxy or an emulator may answer a call with an error whose
// message echoes the request, or the secret it was asked for: for the calls
// that carry payloads, the payload itself. Real AWS redacts sensitive
// members; secretboot does not rely on it. The errors of every Secrets
// Manager operation that is not known to be payload-free (loggedBodies) are
// rebuilt from facts secretboot checked — the operation, the resource the
// request named, an error code Secrets Manager or AWS documents, the HTTP
// status, a request ID of AWS's form — and the endpoint's text is dropped.
// It is an allow-list of the safe operations rather than a list of the
// dangerous ones so that an operation nobody listed (GetRandomPassword
// answers with a generated value) costs a terse message, never a leak.

// EndpointError is the error of a Secrets Manager call whose request or
// answer can carry a payload, with nothing of the endpoint's own text. When
// the endpoint answered with an error code secretboot recognises, the
// returned error also satisfies smithy.APIError with that code and fault,
// and errors.As finds the *EndpointError through it.
type EndpointError struct {
	Operation  string // the Secrets Manager operation, "PutSecretValue"
	Resource   string // the secret the request named; "" when it named none
	Code       string // a documented error code; "" for any other failure
	StatusCode int    // the HTTP status of the answer; 0 when none was read
	RequestID  string // the answer's request ID when it has AWS's form (a UUID)
	Attempts   int    // attempts made, when the retryer gave up after more than one
	// What says what failed when Code is "": the answer could not be read,
	// carried an unrecognised code, or never came.
	What string

	fault smithy.ErrorFault
	ctx   error // context.Canceled or DeadlineExceeded, for errors.Is
}

func (e *EndpointError) Error() string {
	var b strings.Builder
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(e.What)
	}
	var facts []string
	if e.StatusCode != 0 {
		facts = append(facts, fmt.Sprintf("HTTP %d", e.StatusCode))
	}
	if e.RequestID != "" {
		facts = append(facts, "request id "+e.RequestID)
	}
	if e.Attempts > 1 {
		facts = append(facts, fmt.Sprintf("%d attempts", e.Attempts))
	}
	if len(facts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(facts, ", "))
	}
	if advice := e.advice(); advice != "" {
		b.WriteString(": " + advice)
	}
	b.WriteString("; the endpoint's own message is not shown, as it could quote a secret value")
	return b.String()
}

// advice says what the code usually means for the call.
func (e *EndpointError) advice() string {
	a := knownCodes[e.Code]
	if a == accessDenied {
		// The endpoint's message would name the action; the operation
		// names it as well.
		return "the caller lacks secretsmanager:" + e.Operation + " on this secret, or an action it implies (secretsmanager:TagResource for tags; kms:GenerateDataKey or kms:Decrypt on a customer managed KMS key)"
	}
	return a
}

// Unwrap exposes a context error only: the endpoint's error is gone.
func (e *EndpointError) Unwrap() error { return e.ctx }

// endpointAPIError is an EndpointError with a recognised code, as
// smithy.APIError. ErrorMessage is secretboot's advice, never the
// endpoint's message.
type endpointAPIError struct{ *EndpointError }

func (e endpointAPIError) ErrorCode() string             { return e.Code }
func (e endpointAPIError) ErrorFault() smithy.ErrorFault { return e.fault }
func (e endpointAPIError) ErrorMessage() string          { return e.advice() }
func (e endpointAPIError) Unwrap() error                 { return e.EndpointError }

// accessDenied marks the codes of a denial, whose advice names the action.
const accessDenied = "(access denied)"

// knownCodes are the error codes passed on, with what each usually means
// for secretboot's calls: Secrets Manager's modelled errors and AWS's
// common ones. Any other code could be text of the endpoint's choosing.
var knownCodes = map[string]string{
	"ResourceNotFoundException":        "the secret, or the version asked for, does not exist; run plan again",
	"ResourceExistsException":          "the secret, or a version with this request's token, already exists; run plan again",
	"InvalidRequestException":          "the request conflicts with the secret's state (for example, it is scheduled for deletion); run plan again",
	"InvalidParameterException":        "Secrets Manager refused a parameter (for example, a value over 65,536 bytes or an invalid name, description or KMS key)",
	"ValidationException":              "Secrets Manager refused the request as invalid",
	"LimitExceededException":           "a Secrets Manager quota was reached (versions per secret, secrets per account, or the request size)",
	"EncryptionFailure":                "KMS could not encrypt the value: check that the secret's KMS key is enabled and that its key policy lets the caller use it through Secrets Manager (kms:GenerateDataKey)",
	"DecryptionFailure":                "KMS could not decrypt the value: check that the secret's KMS key is enabled and that its key policy lets the caller use it through Secrets Manager (kms:Decrypt)",
	"AccessDeniedException":            accessDenied,
	"AccessDenied":                     accessDenied,
	"UnauthorizedOperation":            accessDenied,
	"AuthorizationError":               accessDenied,
	"MalformedPolicyDocumentException": "",
	"PublicPolicyException":            "",
	"PreconditionNotMetException":      "",
	"InvalidNextTokenException":        "",
	"InternalServiceError":             "AWS failed on its side; run the command again",
	"InternalFailure":                  "AWS failed on its side; run the command again",
	"InternalServerError":              "AWS failed on its side; run the command again",
	"ServiceUnavailable":               "AWS failed on its side; run the command again",
	"ServiceUnavailableException":      "AWS failed on its side; run the command again",
	"RequestTimeout":                   "AWS timed out; run the command again",
	"RequestTimeoutException":          "AWS timed out; run the command again",
	"ThrottlingException":              "AWS kept throttling the call after the retries; run the command again later",
	"Throttling":                       "AWS kept throttling the call after the retries; run the command again later",
	"ThrottledException":               "AWS kept throttling the call after the retries; run the command again later",
	"TooManyRequestsException":         "AWS kept throttling the call after the retries; run the command again later",
	"RequestLimitExceeded":             "AWS kept throttling the call after the retries; run the command again later",
	"UnrecognizedClientException":      "AWS refused the credentials; refresh them",
	"InvalidClientTokenId":             "AWS refused the credentials; refresh them",
	"ExpiredToken":                     "the credentials expired; refresh them",
	"ExpiredTokenException":            "the credentials expired; refresh them",
	"InvalidSignatureException":        "AWS refused the request signature; check the credentials and the system clock",
	"SignatureDoesNotMatch":            "AWS refused the request signature; check the credentials and the system clock",
	"IncompleteSignature":              "AWS refused the request signature; check the credentials and the system clock",
	"MissingAuthenticationToken":       "the request was not signed with credentials AWS accepts",
	"RequestExpired":                   "AWS refused the request as expired; check the system clock",
	"OptInRequired":                    "the account is not subscribed to Secrets Manager in this region",
	"SerializationException":           "the endpoint could not read the request; is it Secrets Manager?",
	"UnknownOperationException":        "the endpoint does not know this operation; is it Secrets Manager?",
}

// requestIDForm is the form of Secrets Manager's request IDs. Any other
// header value could be text of the endpoint's choosing.
var requestIDForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// addEndpointErrors installs the rebuilding of errors on the Secrets
// Manager client. It sits at the end of the initialize step: after the
// input validation (whose errors name fields, never values), and around
// the retry loop, so the retryer classifies the original errors and only
// the final one is rebuilt; the call statistics, further out, see the
// rebuilt error's code.
func addEndpointErrors(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("secretboot.EndpointErrors",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			op := awsmiddleware.GetOperationName(ctx)
			if err == nil || loggedBodies[awsmiddleware.GetServiceID(ctx)+"/"+op] {
				return out, md, err
			}
			return out, md, rebuildError(op, resourceOf(in.Parameters), err)
		}), middleware.After)
}

// resourceOf names the secret a request is about, from the request itself.
func resourceOf(params any) string {
	switch in := params.(type) {
	case *secretsmanager.CreateSecretInput:
		return deref(in.Name)
	case *secretsmanager.PutSecretValueInput:
		return deref(in.SecretId)
	case *secretsmanager.UpdateSecretInput:
		return deref(in.SecretId)
	case *secretsmanager.GetSecretValueInput:
		return deref(in.SecretId)
	case *secretsmanager.BatchGetSecretValueInput:
		return strings.Join(in.SecretIdList, ", ")
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rebuildError keeps of err what secretboot can vouch for.
func rebuildError(op, resource string, err error) error {
	e := &EndpointError{Operation: op, Resource: resource}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		e.Attempts = maxAttempts.Attempt
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.Response != nil {
		e.StatusCode = resp.Response.StatusCode
	}
	var awsResp *awshttp.ResponseError
	if errors.As(err, &awsResp) && requestIDForm.MatchString(awsResp.RequestID) {
		e.RequestID = awsResp.RequestID
	}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			e.ctx = c
		}
	}
	var api smithy.APIError
	var deser *smithy.DeserializationError
	switch {
	case errors.As(err, &api):
		if _, ok := knownCodes[api.ErrorCode()]; ok {
			e.Code, e.fault = api.ErrorCode(), api.ErrorFault()
			return endpointAPIError{e}
		}
		e.What = "the endpoint answered with an error code secretboot does not recognise"
	case errors.As(err, &deser):
		e.What = "the endpoint's answer could not be decoded"
	case e.ctx != nil:
		e.What = "the call was canceled or timed out: " + e.ctx.Error()
	case e.StatusCode != 0:
		e.What = "the endpoint's answer was not understood"
	default:
		e.What = transportFailure(err)
	}
	return e
}

// transportFailure describes an error that came without an answer. The
// transport's own text is not used: net/http quotes the start of a
// malformed answer in it.
func transportFailure(err error) string {
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		var other *smithy.OperationError
		if errors.As(err, &other) && other.ServiceID != "Secrets Manager" {
			// A call the credential provider made (STS, SSO): that
			// request never held a payload.
			return "obtaining credentials failed: " + other.Error()
		}
		return "the request could not be made"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "the endpoint's host name could not be resolved"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return "connecting to the endpoint failed: " + errno.Error()
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return "the endpoint did not answer in time"
	}
	return "the request was sent but no valid answer came back"
}
