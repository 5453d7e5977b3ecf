package secretsmanager

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzSecretsManagerRequest feeds arbitrary bodies to every operation: the
// service must never panic and never answer a 5xx to garbage, and every
// answer must be a JSON document (an error with __type, or a result).
func FuzzSecretsManagerRequest(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"Name":"a"}`, `{"Name":"x","SecretString":"v"}`,
		`{"SecretId":"x","VersionStage":"AWSCURRENT"}`, `{"SecretBinary":"not base64"}`,
		`{"Filters":[{"Key":"name","Values":["!a"]}],"MaxResults":1}`, `{"NextToken":"%%%"}`,
		`{"PasswordLength":4096,"ExcludeCharacters":"abc"}`, `{"ResourcePolicy":"{"}`,
		`{"Tags":[{"Key":"aws:x"}]}`, `{"RecoveryWindowInDays":-1}`, `{"SecretIdList":[]}`,
	} {
		for _, op := range Operations() {
			f.Add(op, []byte(seed))
		}
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		s := New(Config{Account: "000000000000", Region: "us-east-1", Now: func() time.Time { return now }})
		// Give the operations something to find.
		for _, seed := range []string{`{"Name":"x","SecretString":"v"}`, `{"Name":"a"}`} {
			s.Serve(httptest.NewRecorder(), "CreateSecret", []byte(seed), nil, nil, "r")
		}
		w := httptest.NewRecorder()
		s.Serve(w, op, body, nil, nil, "req-1")
		if w.Code >= http.StatusInternalServerError {
			t.Fatalf("%s %q: status %d: %s", op, body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: response is not JSON: %q", op, body, w.Body)
		}
		if got := w.Header().Get("X-Amzn-Requestid"); got != "req-1" {
			t.Fatalf("request ID header = %q", got)
		}
	})
}
