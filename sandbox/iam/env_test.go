package iam

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/internal/fakeclock"
)

const (
	testAccount  = "000000000000"
	adminKey     = "AKIASANDBOXADMIN0000"
	adminARN     = "arn:aws:iam::" + testAccount + ":user/sandbox-admin"
	ec2Trust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	accountTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
)

// env is a Service behind a minimal stand-in for the sandbox router: it
// tells IAM from STS by the SigV4 credential scope and maps access keys
// to principals (the admin key, plus keys that AssumeRole issued). It does
// not verify signatures; that is the router's job.
type env struct {
	svc   *Service
	clock *fakeclock.Clock
	url   string

	mu   sync.Mutex
	keys map[string]Principal
}

func newEnv(t *testing.T, delay time.Duration) *env {
	t.Helper()
	e := &env{
		clock: fakeclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)),
		keys:  map[string]Principal{adminKey: {ARN: adminARN, Account: testAccount, Admin: true}},
	}
	e.svc = New(Config{
		Account:          testAccount,
		Now:              e.clock.Now,
		PropagationDelay: delay,
		IssueCredentials: e.issue,
	})
	srv := httptest.NewServer(http.HandlerFunc(e.serveHTTP))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *env) issue(p Principal) Credentials {
	c := randomCredentials(p)
	e.mu.Lock()
	e.keys[c.AccessKeyID] = p
	e.mu.Unlock()
	return c
}

func (e *env) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	auth := r.Header.Get("Authorization")
	_, cred, _ := strings.Cut(auth, "Credential=")
	key, scope, _ := strings.Cut(cred, "/")
	e.mu.Lock()
	caller, ok := e.keys[key]
	e.mu.Unlock()
	if !ok {
		http.Error(w, "unknown key", http.StatusForbidden)
		return
	}
	if strings.Contains(scope, "/sts/") {
		e.svc.ServeSTS(w, r.PostForm, caller, "req-test")
		return
	}
	e.svc.ServeIAM(w, r.PostForm, caller, "req-test")
}

func (e *env) config(key, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(e.url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) iam() *iam.Client { return iam.NewFromConfig(e.config(adminKey, "secret", "")) }
func (e *env) sts() *sts.Client { return sts.NewFromConfig(e.config(adminKey, "secret", "")) }

// wantAPIError checks the error code and HTTP status of an SDK error.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s (%d)", code, status)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error %v is not a smithy.APIError", err)
	}
	if api.ErrorCode() != code {
		t.Errorf("code = %s, want %s (%v)", api.ErrorCode(), code, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("status = %d, want %d", re.HTTPStatusCode(), status)
	}
}

// mustSucceed returns a check for the calls that set a scenario up:
// must(c.CreateUser(ctx, in)) fails the test when the call fails.
func mustSucceed(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// isType reports whether err wraps an error of type T (the SDK's typed
// exceptions).
func isType[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func mustCreateRole(t *testing.T, c *iam.Client, name, path, trust string) {
	t.Helper()
	_, err := c.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
	})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
}

func allowDoc(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func decode(t *testing.T, s *string) string {
	t.Helper()
	out, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatalf("QueryUnescape: %v", err)
	}
	return out
}
