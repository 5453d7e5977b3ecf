package wire

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type echoService struct{ calls int }

type echoInput struct {
	Name *string `json:"Name"`
}

func echo(s *echoService, in *echoInput, prefix string) (any, *Error) {
	s.calls++
	if in.Name == nil {
		return nil, ClientError("ValidationException", "%s: no name", prefix)
	}
	return map[string]string{"Name": prefix + *in.Name}, nil
}

func TestDecoded(t *testing.T) {
	ops := Operations[*echoService, string]{"Echo": Decoded(echo), "Other": Decoded(echo)}
	if diff := cmp.Diff([]string{"Echo", "Other"}, ops.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	tests := []struct {
		name      string
		body      string
		want      any
		wantErr   *Error
		wantCalls int
	}{
		{"decoded", `{"Name":"x"}`, map[string]string{"Name": "p-x"}, nil, 1},
		{"empty body is empty input", "", nil, NewError(400, "ValidationException", "p-: no name"), 1},
		{"malformed body not quoted", `{"Name":"payload-canary`, nil,
			NewError(400, "SerializationException", "The request body could not be read as the operation's JSON input."), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &echoService{}
			got, err := ops["Echo"](s, []byte(tt.body), "p-")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, err); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if s.calls != tt.wantCalls {
				t.Errorf("operation called %d times, want %d", s.calls, tt.wantCalls)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	created := time.Date(2026, 12, 3, 14, 0, 0, 123_000_000, time.UTC)
	WriteJSON(rec, http.StatusTeapot, "req-3", struct {
		Text    string `json:"Text"`
		Created *Epoch `json:"Created,omitempty"`
		Deleted *Epoch `json:"Deleted,omitempty"`
	}{"a<b&c", At(created), At(time.Time{})})
	if rec.Code != http.StatusTeapot {
		t.Errorf("status = %d", rec.Code)
	}
	wantHeader := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amzn-Requestid": "req-3", "Content-Length": "41"}
	for k, v := range wantHeader {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got, want := rec.Body.String(), `{"Text":"a<b&c","Created":1796306400.123}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}
