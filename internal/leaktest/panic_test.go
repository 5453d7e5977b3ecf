package leaktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// panicSpec has a secret from the environment read by a managed and an
// external role, so that apply writes a payload from worker goroutines.
const panicSpec = specHeader + `
role "ext" {
  external = "arn:aws:iam::000000000000:role/ext-role"
}

secret "app/env" {
  readers = [role.web, role.ext]
  value   = env("LEAK_ENV")
}
`

// TestNoLeakPanicInApply makes the engine panic while it writes a payload,
// with the payload in the panic value: the binary built with the leaktest
// tag panics in every PutSecretValue call with the call's input as JSON.
// The panic happens in one of apply's worker goroutines and must end in
// run's recover — a one-line message and exit code 1 — not in a runtime
// traceback of goroutines and argument words, and must print no payload.
func TestNoLeakPanicInApply(t *testing.T) {
	s := newScanner()
	w := newWorkspace(t, s)
	w.bin = secretbootWithFaults(t)
	first := newCanary("env")
	s.add(first)
	w.setenv("LEAK_ENV=" + string(first.value))
	w.write("main.hcl", []byte(panicSpec))
	env := externalRole(t)

	// The first apply creates the secret (CreateSecret); a new value is a
	// PutSecretValue, which panics.
	w.runEnv(env, 0, "apply", "-auto-approve", "--spec", "spec")
	second := newCanary("env")
	s.add(second)
	w.setenv("LEAK_ENV=" + string(second.value))
	r := w.runEnv(append(env, "SECRETBOOT_LEAKTEST_PANIC=PutSecretValue"), 1, "--debug", "apply", "-auto-approve", "--spec", "spec")
	for _, want := range []string{"internal error", "this is a bug", "provision.injectedPanic"} {
		if !bytes.Contains(r.stderr, []byte(want)) {
			t.Errorf("apply's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, dump := range []string{"goroutine ", "panic:", "0x"} {
		if bytes.Contains(r.stderr, []byte(dump)) {
			t.Errorf("apply's stderr holds a dump (%q):\n%s", dump, r.stderr)
		}
	}
	s.report(t)
}

// TestNoLeakIncompleteAnswer: an endpoint that answers GetRole with an empty
// result, as a broken proxy might, once apply re-reads the stage. The CLI
// reports the incomplete answer as an error naming the role, exits 1, and
// prints no payload.
func TestNoLeakIncompleteAnswer(t *testing.T) {
	s := newScanner()
	w := newWorkspace(t, s)
	c := newCanary("env")
	s.add(c)
	w.setenv("LEAK_ENV=" + string(c.value))
	w.write("main.hcl", []byte(panicSpec))

	sb, err := sandbox.New(sandbox.Options{Account: account, Region: region, Regions: replicaRegions})
	if err != nil {
		t.Fatal(err)
	}
	var getRoles, sabotageAfter atomic.Int64
	sabotageAfter.Store(1 << 62)
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "GetRole" {
			if getRoles.Add(1) > sabotageAfter.Load() {
				rw.Header().Set("Content-Type", "text/xml")
				fmt.Fprint(rw, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult></GetRoleResult>`+
					`<ResponseMetadata><RequestId>leaktest</RequestId></ResponseMetadata></GetRoleResponse>`)
				return
			}
		}
		sb.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() {
		proxy.Close()
		_ = sb.Close()
	})
	env := createExternalRole(t, sb, proxy.URL)

	// A plan counts the GetRole calls of one observation; apply observes
	// twice (to plan, then again inside provision.Apply to refuse a stale
	// plan), and the second observation gets the incomplete answers.
	w.runEnv(env, 0, "plan", "--spec", "spec")
	perObserve := getRoles.Swap(0)
	if perObserve == 0 {
		t.Fatal("plan made no GetRole call; the test needs another call to answer incompletely")
	}
	sabotageAfter.Store(perObserve)
	r := w.runEnv(env, 1, "apply", "-auto-approve", "--spec", "spec")
	for _, want := range []string{"reading external role (ext-role)", "lacks the expected result element"} {
		if !bytes.Contains(r.stderr, []byte(want)) {
			t.Errorf("apply's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if bytes.Contains(r.stderr, []byte("internal error")) {
		t.Errorf("an incomplete answer made the CLI panic:\n%s", r.stderr)
	}
	s.report(t)
}

// externalRole starts a sandbox holding the spec's external role and
// returns the environment that points the CLI at it.
func externalRole(t *testing.T) []string {
	t.Helper()
	env := sandboxtest.Start(t, sandbox.Options{Account: account, Region: region, Regions: replicaRegions})
	return createExternalRole(t, env.Server, env.URL)
}

// createExternalRole creates ext-role through url, the endpoint of sb (or
// a proxy in front of it), and returns the CLI's environment for url.
func createExternalRole(t *testing.T, sb *sandbox.Server, url string) []string {
	t.Helper()
	id, secret := sb.AdminCredentials()
	im := iam.NewFromConfig(sandboxtest.Config(url, region, credentials.NewStaticCredentialsProvider(id, secret, "")))
	if _, err := im.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String("ext-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	return []string{"AWS_ENDPOINT_URL=" + url, "AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=" + region}
}
