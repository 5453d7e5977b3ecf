package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/syncbuf"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// post sends a raw request, so that wire details the SDK hides can be checked.
func post(t *testing.T, url string, header map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func smHeaders(op string) map[string]string {
	return map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager." + op}
}

func TestSecretsManagerWire(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	env := sandboxtest.Start(t, sandbox.Options{Now: func() time.Time { return now }})
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		status     int
		wantFields map[string]any // expected top-level fields; ARNs and IDs are checked for presence only
	}{
		{"not found is 400", smHeaders("DescribeSecret"), `{"SecretId":"nope"}`, 400,
			map[string]any{"__type": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}},
		{"unknown operation", smHeaders("Frobnicate"), `{}`, 400,
			map[string]any{"__type": "UnknownOperationException", "Message": "Unknown operation Frobnicate."}},
		{"another service's target", map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables"}, `{}`, 400,
			map[string]any{"__type": "UnknownOperationException", "Message": "The sandbox serves Secrets Manager, KMS, IAM and STS only."}},
		{"garbage body", smHeaders("ListSecrets"), `{"MaxResults":"many"}`, 400,
			map[string]any{"__type": "SerializationException", "Message": "The request body could not be read as the operation's JSON input."}},
		{"create", smHeaders("CreateSecret"), `{"Name":"wire","SecretString":"v","ClientRequestToken":"00000000000000000000000000000001"}`, 200,
			map[string]any{"ARN": "", "Name": "wire", "VersionId": "00000000000000000000000000000001"}},
		{"delete date is epoch seconds", smHeaders("DeleteSecret"), `{"SecretId":"wire","RecoveryWindowInDays":7}`, 200,
			map[string]any{"ARN": "", "Name": "wire", "DeletionDate": 1772971200.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, env.URL, tt.header, tt.body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
				t.Errorf("headers = %v", resp.Header)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if arn, ok := got["ARN"].(string); ok && strings.HasPrefix(arn, "arn:aws:secretsmanager:") {
				got["ARN"] = ""
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRoutingAndStats(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Account: "123456789012"})
	ctx := context.Background()
	if _, err := sm.NewFromConfig(env.Config).ListSecrets(ctx, &sm.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(env.Config).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(env.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Arn); got != "arn:aws:iam::123456789012:user/sandbox-admin" {
		t.Errorf("caller = %s, want the admin user", got)
	}
	// Without a signature, the API version tells IAM from STS.
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	resp, body := post(t, env.URL, form, "Action=GetCallerIdentity&Version=2011-06-15")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<Account>123456789012</Account>")) {
		t.Errorf("STS by Version: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, env.URL, form, "Action=ListRoles&Version=2010-05-08")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<ListRolesResponse")) {
		t.Errorf("IAM by Version: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, env.URL, form, "Action=ListRoles&Version=1999-01-01")
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("<Code>InvalidAction</Code>")) {
		t.Errorf("unknown Version: %d %s", resp.StatusCode, body)
	}

	want := sandbox.Stats{
		Calls: map[string]int{
			"secretsmanager.ListSecrets": 1, "iam.ListRoles": 2, "sts.GetCallerIdentity": 2,
		},
		Throttled: map[string]int{}, Faults: map[string]int{}, Propagating: map[string]int{},
	}
	if diff := cmp.Diff(want, env.Server.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	r, err := http.Get(env.URL + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	var fromHTTP sandbox.Stats
	err = json.NewDecoder(r.Body).Decode(&fromHTTP)
	r.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, fromHTTP); diff != "" {
		t.Errorf("GET /_sandbox/stats (-want +got):\n%s", diff)
	}
	if resp, _ := post(t, env.URL+"/_sandbox/reset-stats", nil, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("reset-stats status %d", resp.StatusCode)
	}
	if got := env.Server.Stats().Calls; len(got) != 0 {
		t.Errorf("after reset: %v", got)
	}
}

func TestFaultInjection(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{FaultRate: 1})
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		op     string
		code   string
		status int
	}{
		{"secretsmanager", func() error {
			_, err := sm.NewFromConfig(env.Config).ListSecrets(ctx, &sm.ListSecretsInput{})
			return err
		}, "secretsmanager.ListSecrets", "InternalServiceError", 500},
		{"iam", func() error {
			_, err := iam.NewFromConfig(env.Config).ListRoles(ctx, &iam.ListRolesInput{})
			return err
		}, "iam.ListRoles", "ServiceFailure", 500},
		{"sts", func() error {
			_, err := sts.NewFromConfig(env.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "sts.GetCallerIdentity", "ServiceUnavailable", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if apiCode(err) != tt.code || httpStatus(err) != tt.status {
				t.Errorf("error = %v, want %s (%d)", err, tt.code, tt.status)
			}
			// The SDK's standard retryer tried three times.
			if got := env.Server.Stats().Faults[tt.op]; got != 3 {
				t.Errorf("faults of %s = %d, want 3 attempts", tt.op, got)
			}
		})
	}
	env.Server.SetFaults(sandbox.Faults{})
	if _, err := sm.NewFromConfig(env.Config).ListSecrets(ctx, &sm.ListSecretsInput{}); err != nil {
		t.Errorf("after SetFaults: %v", err)
	}
}

func TestQuotas(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Quotas: true})
	ctx := context.Background()

	// Without retries, a burst beyond a bucket's size is throttled with
	// AWS's code and status: ListSecrets holds 100, IAM writes 20, KMS's
	// CreateKey 5.
	noRetry := env.Config.Copy()
	noRetry.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	c := sm.NewFromConfig(noRetry)
	ic := iam.NewFromConfig(noRetry)
	kc := kms.NewFromConfig(noRetry)
	tests := []struct {
		name   string
		n      int
		call   func() error
		code   string
		status int
	}{
		{"secretsmanager", 300, func() error {
			_, err := c.ListSecrets(ctx, &sm.ListSecretsInput{})
			return err
		}, "ThrottlingException", 400},
		{"iam", 100, func() error {
			_, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("missing")})
			return err
		}, "Throttling", 400},
		{"kms", 20, func() error {
			_, err := kc.CreateKey(ctx, &kms.CreateKeyInput{})
			return err
		}, "ThrottlingException", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var throttled error
			var wg sync.WaitGroup
			for range tt.n {
				wg.Go(func() {
					if err := tt.call(); apiCode(err) == tt.code {
						mu.Lock()
						throttled = err
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if throttled == nil || httpStatus(throttled) != tt.status {
				t.Fatalf("burst of %d: throttled error = %v, want %s (%d)", tt.n, throttled, tt.code, tt.status)
			}
		})
	}

	// The SDK retries throttling: a burst of 100 CreateSecret against a
	// 50/s bucket all succeed, some after retries.
	env.Server.SetFaults(sandbox.Faults{}) // refill: quotas off, then on
	env.Server.SetFaults(sandbox.Faults{Quotas: true})
	env.Server.ResetStats()
	patient := env.Config.Copy()
	patient.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.Backoff = retry.NewExponentialJitterBackoff(500 * time.Millisecond)
			o.RateLimiter = ratelimit.None
		})
	}
	c = sm.NewFromConfig(patient)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(fmt.Sprint("burst", i)), SecretString: aws.String("v")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("CreateSecret in a burst: %v", err)
		}
	}
	st := env.Server.Stats()
	if st.Throttled["secretsmanager.CreateSecret"] == 0 || st.Calls["secretsmanager.CreateSecret"] != 100+st.Throttled["secretsmanager.CreateSecret"] {
		t.Errorf("stats = %+v, want throttled calls that were retried", st)
	}
}

func TestLatency(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond})
	start := time.Now()
	if _, err := sm.NewFromConfig(env.Config).ListSecrets(context.Background(), &sm.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("call took %v, want at least the latency", d)
	}
}

func TestRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	srv, err := sandbox.New(sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	env := startOn(t, srv)
	c := sm.NewFromConfig(env.Config)
	created, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("kept"), SecretString: aws.String("payload")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(env.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)}); err != nil {
		t.Fatal(err)
	}
	// Changes reach the disk shortly, without waiting for Close.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("state.json not written within 5s of a change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, "state.json"): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", path, fi.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only state.json", len(entries))
	}

	srv2, err := sandbox.New(sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	env2 := startOn(t, srv2)
	v, err := sm.NewFromConfig(env2.Config).GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("kept")})
	if err != nil || aws.ToString(v.SecretString) != "payload" || *v.ARN != *created.ARN || *v.VersionId != *created.VersionId {
		t.Errorf("after restart: %+v, %v", v, err)
	}
	if _, err := iam.NewFromConfig(env2.Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")}); err != nil {
		t.Errorf("role after restart: %v", err)
	}

	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.New(sandbox.Options{StateDir: dir}); err == nil {
		t.Error("New with a corrupt state file succeeded")
	}
}

// startOn serves an existing Server the way sandboxtest.Start does.
func startOn(t *testing.T, srv *sandbox.Server) *sandboxtest.Env {
	t.Helper()
	ts := httptestServer(t, srv)
	id, secret := srv.AdminCredentials()
	return &sandboxtest.Env{Server: srv, URL: ts, Config: sandboxtest.Config(ts, "us-east-1", staticCreds(id, secret, ""))}
}

func TestRequestLogHasNoPayload(t *testing.T) {
	var buf syncbuf.Buffer
	env := sandboxtest.Start(t, sandbox.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	const canary = "CANARY-9c1e-payload"
	c := sm.NewFromConfig(env.Config)
	ctx := context.Background()
	if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("logged"), SecretString: aws.String(canary)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("logged")}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("logged"), SecretString: aws.String(canary), SecretBinary: []byte(canary)})
	log := buf.String()
	if strings.Contains(log, canary) {
		t.Errorf("request log contains the payload:\n%s", log)
	}
	for _, want := range []string{`"op":"CreateSecret"`, `"op":"GetSecretValue"`, `"status":400`, `"service":"secretsmanager"`} {
		if !strings.Contains(log, want) {
			t.Errorf("request log lacks %s:\n%s", want, log)
		}
	}
}

// TestNewRejectsImpossibleOptions: options AWS could never present are
// refused when the server is built, not at the first request.
func TestNewRejectsImpossibleOptions(t *testing.T) {
	tests := []struct {
		name string
		opts sandbox.Options
		want string // in the error; "" = accepted
	}{
		{"defaults", sandbox.Options{}, ""},
		{"fault rate above 1", sandbox.Options{FaultRate: 1.5}, "fault rate"},
		{"negative fault rate", sandbox.Options{FaultRate: -0.1}, "fault rate"},
		{"raised attachment quota", sandbox.Options{AttachedPoliciesPerRoleQuota: 20}, ""},
		{"attachment quota below AWS's default", sandbox.Options{AttachedPoliciesPerRoleQuota: 9}, "10 to 20"},
		{"attachment quota above AWS's maximum", sandbox.Options{AttachedPoliciesPerRoleQuota: 21}, "10 to 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := sandbox.New(tt.opts)
			if err == nil {
				_ = srv.Close()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
