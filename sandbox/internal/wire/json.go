package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ClientError builds a 400 *Error: the AWS JSON 1.1 services the sandbox
// speaks (KMS, Secrets Manager) answer every client exception with 400.
func ClientError(code, format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, code, fmt.Sprintf(format, args...))
}

// Handler answers one JSON operation of service S with the request body and
// the caller's authorizer A.
type Handler[S, A any] func(s S, body []byte, authorize A) (any, *Error)

// Decoded adapts an operation to a Handler: it decodes the JSON body into
// the operation's input type first. An empty body is an empty input.
func Decoded[S, A, T any](op func(s S, in *T, authorize A) (any, *Error)) Handler[S, A] {
	return func(s S, body []byte, authorize A) (any, *Error) {
		in := new(T)
		if len(body) == 0 {
			body = []byte("{}")
		}
		if err := json.Unmarshal(body, in); err != nil {
			// The decoder's message may quote part of the body, which may
			// be a payload or plaintext: answer with a fixed message.
			return nil, ClientError("SerializationException", "The request body could not be read as the operation's JSON input.")
		}
		return op(s, in, authorize)
	}
}

// Operations maps a JSON service's operation names (the part of X-Amz-Target
// after the service prefix) to their handlers.
type Operations[S, A any] map[string]Handler[S, A]

// Names lists the operation names, sorted.
func (ops Operations[S, A]) Names() []string {
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	slices.Sort(names)
	return names
}

// WriteJSON writes v as an AWS JSON 1.1 response body with status.
func WriteJSON(w http.ResponseWriter, status int, requestID string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // AWS sends <, > and & as they are
	if err := enc.Encode(v); err != nil {
		// Every response type is a plain struct of strings, numbers and
		// maps; failing to encode one is a bug in the service.
		panic(fmt.Sprintf("wire: encoding JSON response: %v", err))
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Epoch is a timestamp as the JSON protocol encodes it: seconds since the
// Unix epoch as a JSON number, with a millisecond fraction.
type Epoch time.Time

// MarshalJSON implements json.Marshaler.
func (e Epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// At returns a pointer for an optional response timestamp, nil for the zero
// time, so that omitempty leaves it out.
func At(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}
