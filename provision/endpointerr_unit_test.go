package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestRebuildError covers the failures an endpoint test cannot easily
// provoke. Each original error quotes a canary; no rebuilt one may.
func TestRebuildError(t *testing.T) {
	const canary = "CANARY-rebuild-4e8a1c"
	response := func(status int, id string, err error) error {
		return &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
			RequestID:     id,
		}
	}
	send := func(err error) error { return &smithyhttp.RequestSendError{Err: err} }
	for _, tc := range []struct {
		name string
		err  error
		want string // the rebuilt error's text, up to the standard ending
		code string // its smithy.APIError code; "" = not an APIError
		ctx  error  // the context error it wraps
	}{
		{"documented code", response(400, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", &smithy.GenericAPIError{Code: "ResourceExistsException", Message: canary, Fault: smithy.FaultClient}),
			"ResourceExistsException (HTTP 400, request id 1b4e28ba-2fa1-11d2-883f-0016d3cca427): the secret, or a version with this request's token, already exists; run plan again", "ResourceExistsException", nil},
		{"access denied", response(400, "", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: canary}),
			"AccessDeniedException (HTTP 400): the caller lacks secretsmanager:PutSecretValue on this secret, or an action it implies (secretsmanager:TagResource for tags; kms:GenerateDataKey or kms:Decrypt on a customer managed KMS key)", "AccessDeniedException", nil},
		{"retries exhausted", &retry.MaxAttemptsError{Attempt: 8, Err: response(500, "", &smithy.GenericAPIError{Code: "InternalServiceError", Message: canary})},
			"InternalServiceError (HTTP 500, 8 attempts): AWS failed on its side; run the command again", "InternalServiceError", nil},
		{"code without advice", response(400, "", &smithy.GenericAPIError{Code: "PreconditionNotMetException", Message: canary}),
			"PreconditionNotMetException (HTTP 400)", "PreconditionNotMetException", nil},
		{"undocumented code", response(400, canary, &smithy.GenericAPIError{Code: canary, Message: canary}),
			"the endpoint answered with an error code secretboot does not recognise (HTTP 400)", "", nil},
		{"undecodable answer", response(200, "", &smithy.DeserializationError{Err: errors.New(canary), Snapshot: []byte(canary)}),
			"the endpoint's answer could not be decoded (HTTP 200)", "", nil},
		{"answer not understood", response(302, "", errors.New(canary)),
			"the endpoint's answer was not understood (HTTP 302)", "", nil},
		{"canceled", send(fmt.Errorf("%s: %w", canary, context.Canceled)),
			"the call was canceled or timed out: context canceled", "", context.Canceled},
		{"deadline", fmt.Errorf("%s: %w", canary, context.DeadlineExceeded),
			"the call was canceled or timed out: context deadline exceeded", "", context.DeadlineExceeded},
		{"host unknown", send(&net.OpError{Op: "dial", Err: &net.DNSError{Name: canary, Err: canary}}),
			"the endpoint's host name could not be resolved", "", nil},
		{"connection refused", send(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
			"connecting to the endpoint failed: connection refused", "", nil},
		{"timeout", send(&net.OpError{Op: "read", Err: timeoutError{}}),
			"the endpoint did not answer in time", "", nil},
		{"malformed answer", send(fmt.Errorf("net/http: malformed HTTP response %q", canary)),
			"the request was sent but no valid answer came back", "", nil},
		{"credentials", fmt.Errorf("get identity: %w", &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: errors.New("AccessDenied: not allowed")}),
			"obtaining credentials failed: operation error STS: AssumeRole, AccessDenied: not allowed", "", nil},
		{"request not built", &smithy.SerializationError{Err: errors.New(canary)},
			"the request could not be made", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rebuildError("PutSecretValue", "dev/app/x", tc.err)
			text := err.Error()
			if want := tc.want + "; the endpoint's own message is not shown, as it could quote a secret value"; text != want {
				t.Errorf("got  %s\nwant %s", text, want)
			}
			if strings.Contains(text, canary) || strings.Contains(fmt.Sprintf("%+v", err), canary) {
				t.Errorf("the canary survived: %s", text)
			}
			var api smithy.APIError
			switch isAPI := errors.As(err, &api); {
			case tc.code == "" && isAPI:
				t.Errorf("an APIError with code %q", api.ErrorCode())
			case tc.code != "" && (!isAPI || api.ErrorCode() != tc.code || strings.Contains(api.ErrorMessage(), canary)):
				t.Errorf("want an APIError %s, got %#v", tc.code, err)
			}
			var ee *EndpointError
			if !errors.As(err, &ee) || ee.Operation != "PutSecretValue" || ee.Resource != "dev/app/x" {
				t.Errorf("no EndpointError naming the call: %#v", err)
			}
			if tc.ctx != nil && !errors.Is(err, tc.ctx) {
				t.Errorf("errors.Is(%v) is false", tc.ctx)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string { return "i/o timeout" }
func (timeoutError) Timeout() bool { return true }
