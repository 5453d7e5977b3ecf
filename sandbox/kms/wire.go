package kms

import (
	"net/http"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Error codes of the KMS API that the sandbox answers.
const (
	CodeAccessDenied     = "AccessDeniedException"
	CodeAlreadyExists    = "AlreadyExistsException"
	CodeDisabled         = "DisabledException"
	CodeIncorrectKey     = "IncorrectKeyException"
	CodeInternal         = "KMSInternalException"
	CodeInvalidAlias     = "InvalidAliasNameException"
	CodeInvalidArn       = "InvalidArnException"
	CodeInvalidCipher    = "InvalidCiphertextException"
	CodeInvalidMarker    = "InvalidMarkerException"
	CodeInvalidState     = "KMSInvalidStateException"
	CodeMalformedPolicy  = "MalformedPolicyDocumentException"
	CodeNotFound         = "NotFoundException"
	CodeSerialization    = "SerializationException"
	CodeThrottling       = "ThrottlingException"
	CodeUnknownOperation = "UnknownOperationException"
	CodeUnsupported      = "UnsupportedOperationException"
	CodeDryRun           = "DryRunOperationException"
	CodeValidation       = "ValidationException"
)

// apiError is an error answered to the client. Its message names keys,
// aliases and limits, never plaintext.
type apiError = wire.Error

// clientErr builds a 400 error: KMS answers every client exception with 400.
func clientErr(code, format string, args ...any) *apiError {
	return wire.ClientError(code, format, args...)
}

// validation builds KMS's model-constraint answer, which names the member in
// lower camel case: "1 validation error detected: Value '5' at
// 'pendingWindowInDays' failed to satisfy constraint: Member must have value
// greater than or equal to 7".
func validation(value, member, constraint string) *apiError {
	return clientErr(CodeValidation, "1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// WriteError writes a KMS JSON error. The sandbox uses it for the answers it
// gives before a request reaches the service.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	wire.WriteJSON(w, status, requestID, struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{code, message})
}

type epoch = wire.Epoch

var at = wire.At
