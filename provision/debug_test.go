package provision_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/internal/syncbuf"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestDebugLogRedactsPayloads applies with --debug logging on: every call is
// logged with its timing, attempts, retries and throttles, every HTTP
// exchange with its attempt number, the apply ends with calls per operation, bodies of calls that carry payloads
// (and the stage key) are replaced by "(redacted)", and the canary appears
// nowhere.
func TestDebugLogRedactsPayloads(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	var buf syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := provision.Connect(context.Background(), provision.ConnectOptions{
		Stage: "dbg", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		Debug:       log,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := testDesired("dbg", sandboxAccount, canary)
	converge(t, s, d, provision.DiffOptions{})
	out := buf.String()
	noCanary(t, "debug log", out)
	for _, want := range []string{
		`"operation":"CreateSecret"`, `"operation":"ListSecrets"`, `"operation":"PutRolePolicy"`,
		`"attempts":1`, `"retries":0`, `"throttles":0`, `"attempt":"attempt=1`, `"msg":"apply calls"`,
		`"request_body":"(redacted)"`, `"response_body":"(redacted)"`, "secretsmanager:GetSecretValue",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %s", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"operation":"GetSecretValue"`) && strings.Contains(line, "http exchange") && !strings.Contains(line, `"response_body":"(redacted)"`) {
			t.Errorf("GetSecretValue response logged: %s", line)
		}
		if strings.Contains(strings.ReplaceAll(line, "GetAccountAuthorizationDetails", ""), "Authorization") || strings.Contains(line, sandbox.AdminSecretAccessKey) {
			t.Errorf("credentials logged: %s", line)
		}
	}
}
