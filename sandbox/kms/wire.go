package kms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
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
type apiError struct {
	status    int
	code, msg string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// clientErr builds a 400 error: KMS answers every client exception with 400.
func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
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
	writeJSON(w, status, requestID, struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{code, message})
}

func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every response type is a plain struct; failing to encode one is
		// a bug in this package.
		panic(fmt.Sprintf("kms: encoding response: %v", err))
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// epoch is a timestamp as the protocol encodes it: seconds since the Unix
// epoch, a JSON number with a millisecond fraction.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func at(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}
