package sandbox

import (
	"bytes"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicIsAnsweredWithoutItsValue: a panicking operation is answered
// with a 500 of the service's kind, and neither the sandbox's request log
// nor net/http's error log sees the panic value or the request body.
func TestPanicIsAnsweredWithoutItsValue(t *testing.T) {
	const canary = "canary-panic-5d1e"
	var requestLog bytes.Buffer
	srv, err := New(Options{Logger: slog.New(slog.NewTextHandler(&requestLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.sm = nil // every Secrets Manager operation now dereferences nil

	var httpLog bytes.Buffer
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(&httpLog, "", 0)
	ts.Start()
	defer ts.Close()

	req, err := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(`{"Name":"dev/x","SecretString":"`+canary+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.CreateSecret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body.String(), "InternalServiceError") {
		t.Errorf("response = %d %s, want 500 InternalServiceError", resp.StatusCode, body.String())
	}
	if !strings.Contains(requestLog.String(), "operation panicked") {
		t.Errorf("request log does not record the panic:\n%s", requestLog.String())
	}
	for name, out := range map[string]string{"response": body.String(), "request log": requestLog.String(), "net/http log": httpLog.String()} {
		if strings.Contains(out, canary) || strings.Contains(out, "goroutine ") {
			t.Errorf("%s holds the payload or a stack trace:\n%s", name, out)
		}
	}
}
