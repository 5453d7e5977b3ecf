package wire

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

func TestList(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"absent", "Action=X", nil},
		{"in order", "A.member.2=b&A.member.1=a&A.member.3=c", []string{"a", "b", "c"}},
		{"stops at gap", "A.member.1=a&A.member.3=c", []string{"a"}},
		{"empty value kept", "A.member.1=&A.member.2=x", []string{"", "x"}},
		{"other lists ignored", "B.member.1=z&A.member.1=a", []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, err := url.ParseQuery(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, List(form, "A")); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStructs(t *testing.T) {
	body := "Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2&" +
		"Ctx.member.1.ContextKeyValues.member.1=x&Tags.member.4.Key=gap"
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		list string
		want []url.Values
	}{
		{"flat fields", "Tags", []url.Values{{"Key": {"k1"}, "Value": {"v1"}}, {"Key": {"k2"}}}},
		{"nested list", "Ctx", []url.Values{{"ContextKeyValues.member.1": {"x"}}}},
		{"absent", "Nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Structs(form, tt.list)); diff != "" {
				t.Errorf("Structs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIntBool(t *testing.T) {
	form := url.Values{"N": {"42"}, "Bad": {"4x"}, "B": {"true"}}
	tests := []struct {
		name    string
		call    func() (any, error)
		want    any
		wantErr bool
	}{
		{"int present", func() (any, error) { return Int(form, "N", 7) }, 42, false},
		{"int default", func() (any, error) { return Int(form, "Missing", 7) }, 7, false},
		{"int malformed", func() (any, error) { return Int(form, "Bad", 7) }, 0, true},
		{"bool present", func() (any, error) { return Bool(form, "B", false) }, true, false},
		{"bool default", func() (any, error) { return Bool(form, "Missing", true) }, true, false},
		{"bool malformed", func() (any, error) { return Bool(form, "Bad", false) }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscapeDocument(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"json", `{"A":"b c+d"}`, "%7B%22A%22%3A%22b%20c%2Bd%22%7D"},
		{"unreserved kept", "a-Z_0.~", "a-Z_0.~"},
		{"newline and unicode", "\n\u00e9", "%0A%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EscapeDocument(tt.doc)
			if got != tt.want {
				t.Errorf("EscapeDocument = %q, want %q", got, tt.want)
			}
			// Real callers decode with QueryUnescape; it must give the original.
			back, err := url.QueryUnescape(got)
			if err != nil || back != tt.doc {
				t.Errorf("QueryUnescape = %q, %v; want %q", back, err, tt.doc)
			}
		})
	}
}

type sampleResult struct {
	Role struct {
		RoleName   string    `xml:"RoleName"`
		CreateDate time.Time `xml:"CreateDate"`
	} `xml:"Role"`
	Names     []string `xml:"Names>member"`
	Optional  string   `xml:"Optional,omitempty"`
	Truncated bool     `xml:"IsTruncated"`
}

func TestWriteQueryResult(t *testing.T) {
	var r sampleResult
	r.Role.RoleName = `a<b&"c"`
	r.Role.CreateDate = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Names = []string{"x", "y"}
	tests := []struct {
		name   string
		result any
	}{
		{"result", r},
		{"no_result", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteQueryResult(rec, IAMNamespace, "GetRole", tt.result, "req-1")
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d", rec.Code)
			}
			if got := rec.Header().Get("X-Amzn-Requestid"); got != "req-1" {
				t.Errorf("request id header = %q", got)
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), new(any)); err != nil {
				t.Errorf("not well-formed XML: %v", err)
			}
			golden.Check(t, filepath.Join("testdata", "result_"+tt.name+".golden"), rec.Body.Bytes())
		})
	}
}

func TestWriteQueryResultUnencodable(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteQueryResult(rec, IAMNamespace, "GetRole", map[string]string{"a": "b"}, "req-1")
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"sender", NewError(http.StatusNotFound, "NoSuchEntity", "The role with name x cannot be found."), http.StatusNotFound},
		{"wrapped", fmt.Errorf("ctx: %w", NewError(http.StatusConflict, "DeleteConflict", "must delete policies first")), http.StatusConflict},
		{"receiver", NewError(http.StatusServiceUnavailable, "ServiceUnavailable", "try later"), http.StatusServiceUnavailable},
		{"internal_text_hidden", errors.New("secret-canary-payload"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err, "req-2")
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			golden.Check(t, filepath.Join("testdata", "error_"+tt.name+".golden"), rec.Body.Bytes())
		})
	}
}
