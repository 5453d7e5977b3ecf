package secretsmanager

import (
	"net/http"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Error codes of the Secrets Manager API (AWS-FACTS §1). ThrottlingException,
// AccessDeniedException, SerializationException and UnknownOperationException
// are not in the SDK's model; they arrive as smithy.GenericAPIError, as they do
// from AWS.
const (
	CodeAccessDenied         = "AccessDeniedException"
	CodeDecryptionFailure    = "DecryptionFailure"
	CodeEncryptionFailure    = "EncryptionFailure"
	CodeInternalServiceError = "InternalServiceError"
	CodeInvalidNextToken     = "InvalidNextTokenException"
	CodeInvalidParameter     = "InvalidParameterException"
	CodeInvalidRequest       = "InvalidRequestException"
	CodeLimitExceeded        = "LimitExceededException"
	CodeMalformedPolicy      = "MalformedPolicyDocumentException"
	CodePublicPolicy         = "PublicPolicyException"
	CodeResourceExists       = "ResourceExistsException"
	CodeResourceNotFound     = "ResourceNotFoundException"
	CodeSerialization        = "SerializationException"
	CodeThrottling           = "ThrottlingException"
	CodeUnknownOperation     = "UnknownOperationException"
	CodeValidation           = "ValidationException"
)

// apiError is an error answered to the client. Its message is built only
// from names, ARNs and limits: never from a payload.
type apiError = wire.Error

// clientErr builds a 400 error: AWS answers every Secrets Manager client
// exception with 400, ResourceNotFoundException included.
func clientErr(code, format string, args ...any) *apiError {
	return wire.ClientError(code, format, args...)
}

func invalidParam(format string, args ...any) *apiError {
	return clientErr(CodeInvalidParameter, format, args...)
}

func invalidRequest(format string, args ...any) *apiError {
	return clientErr(CodeInvalidRequest, format, args...)
}

func errSecretNotFound() *apiError {
	return clientErr(CodeResourceNotFound, "Secrets Manager can't find the specified secret.")
}

// errInvalidName is AWS's answer, on every operation, to a secret name or
// SecretId (not an ARN) with characters outside the allowed set; the message
// is AWS's own, as recorded on AWS (localstack's test_invalid_secret_name
// snapshot).
func errInvalidName() *apiError {
	return clientErr(CodeValidation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
}

// errNoToken is AWS's answer to a raw write request that carries a value but
// no ClientRequestToken; the SDKs and the CLI always fill one in
// (localstack's test_no_client_request_token snapshot, recorded on AWS).
func errNoToken() *apiError {
	return invalidRequest("You must provide a ClientRequestToken value. We recommend a UUID-type value.")
}

func errMarkedForDeletion() *apiError {
	return invalidRequest("You can't perform this operation on the secret because it was marked for deletion.")
}

// WriteError writes a Secrets Manager JSON error. The sandbox uses it for the
// answers it gives before a request reaches the service (throttling, injected
// faults, authentication failures).
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	wire.WriteJSON(w, status, requestID, struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
	}{code, message})
}

type epoch = wire.Epoch

var at = wire.At
