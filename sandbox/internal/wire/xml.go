package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
)

// Namespaces of the two awsQuery services the sandbox speaks.
const (
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// Error is an awsQuery error response: the HTTP status and the code and
// message that go into the ErrorResponse body.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// NewError builds an *Error.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// WriteQueryResult writes a successful awsQuery response for action. result
// is marshalled with encoding/xml as the children of <ActionResult>. A nil
// result (operations without output) still gets an empty <ActionResult>:
// the SDK's awsQuery deserializer fails when it cannot find that element
// and the operation has an output shape, which some empty outputs do.
func WriteQueryResult(w http.ResponseWriter, namespace, action string, result any, requestID string) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	resp := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespace}},
	}
	if result == nil {
		result = struct{}{}
	}
	err := enc.EncodeToken(resp)
	if err == nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(resp.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		// Only a result type the encoder cannot handle gets here: a bug in
		// the sandbox, reported the way AWS reports its own failures.
		WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", "the sandbox could not encode the response", requestID)
		return
	}
	write(w, http.StatusOK, buf.Bytes(), requestID)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// WriteQueryError writes an awsQuery ErrorResponse. The Type is Sender for
// client errors (4xx) and Receiver for server errors (5xx).
func WriteQueryError(w http.ResponseWriter, status int, code, message, requestID string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	body, err := xml.Marshal(errorResponse{Type: typ, Code: code, Message: message, RequestID: requestID})
	if err != nil {
		// Strings always marshal; keep a fixed body rather than panic.
		body = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code></Error></ErrorResponse>")
	}
	write(w, status, append([]byte(xml.Header), body...), requestID)
}

// WriteError writes err as an awsQuery error: an *Error keeps its status and
// code; anything else becomes a 500 ServiceFailure without its text, so that
// an unexpected internal error can never echo request data.
func WriteError(w http.ResponseWriter, err error, requestID string) {
	var e *Error
	if errors.As(err, &e) {
		WriteQueryError(w, e.Status, e.Code, e.Message, requestID)
		return
	}
	WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", "internal failure in the sandbox", requestID)
}

func write(w http.ResponseWriter, status int, body []byte, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}
