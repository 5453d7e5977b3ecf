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

// TestNoLeakPanicInApply makes apply panic without any test hook in the
// program: the CLI talks to a sandbox behind a proxy that answers IAM
// GetRole with an empty result once apply re-reads the stage, and the
// engine dereferences the missing role. The panic must end in run's
// recover — a one-line message and exit code 1 — not in a runtime traceback
// of goroutines and argument words, and must print no payload.
func TestNoLeakPanicInApply(t *testing.T) {
	s := newScanner()
	w := newWorkspace(t, s)
	c := newCanary("env")
	s.add(c)
	w.setenv("LEAK_ENV=" + string(c.value))
	w.write("main.hcl", []byte(specHeader+`
role "ext" {
  external = "arn:aws:iam::000000000000:role/ext-role"
}

secret "app/env" {
  readers = [role.web, role.ext]
  value   = env("LEAK_ENV")
}
`))

	sb, err := sandbox.New(sandbox.Options{Account: account, Region: region})
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
	id, secret := sb.AdminCredentials()
	im := iam.NewFromConfig(sandboxtest.Config(proxy.URL, region, credentials.NewStaticCredentialsProvider(id, secret, "")))
	if _, err := im.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String("ext-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ENDPOINT_URL=" + proxy.URL, "AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=" + region}

	// A plan counts the GetRole calls of one observation; apply observes
	// twice (to plan, then again inside provision.Apply to refuse a stale
	// plan), and the second observation gets the malformed answers.
	w.runEnv(env, 0, "plan", "--spec", "spec")
	perObserve := getRoles.Swap(0)
	if perObserve == 0 {
		t.Fatal("plan made no GetRole call; the test needs another way to provoke a panic")
	}
	sabotageAfter.Store(perObserve)
	r := w.runEnv(env, 1, "apply", "-auto-approve", "--spec", "spec")
	for _, want := range []string{"internal error", "this is a bug"} {
		if !bytes.Contains(r.stderr, []byte(want)) {
			t.Errorf("apply's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, dump := range []string{"goroutine ", "panic:", "runtime error", "0x"} {
		if bytes.Contains(r.stderr, []byte(dump)) {
			t.Errorf("apply's stderr holds a dump (%q):\n%s", dump, r.stderr)
		}
	}
	s.report(t)
}
