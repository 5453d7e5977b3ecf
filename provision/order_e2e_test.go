package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// callLog stands in front of a sandbox and records, in the order the
// sandbox sees them, when each call begins and ends: "begin <Operation>
// <subject>" and "end <Operation> <subject>", the subject being the
// secret (SecretId) or the role (RoleName) the call names.
type callLog struct {
	next http.Handler

	mu     sync.Mutex
	events []string
	// slow holds calls of these operations back for a while before the
	// sandbox sees them, so that a call nothing orders after them would
	// overtake them.
	slow map[string]time.Duration
	// after, when set, runs once a call has been answered, with its
	// operation and its request body.
	after func(op string, body []byte)
}

// startCallLog serves env's sandbox through a callLog and returns env
// with its URL replaced by the log's.
func startCallLog(t *testing.T, env *sandboxtest.Env) (*callLog, *sandboxtest.Env) {
	t.Helper()
	l := &callLog{next: env.Server}
	ts := httptest.NewServer(l)
	t.Cleanup(ts.Close)
	logged := *env
	logged.URL = ts.URL
	return l, &logged
}

func (l *callLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	op, subject := callOf(r, body)
	l.add("begin " + op + " " + subject)
	l.mu.Lock()
	after, slow := l.after, l.slow[op]
	l.mu.Unlock()
	time.Sleep(slow)
	l.next.ServeHTTP(w, r)
	l.add("end " + op + " " + subject)
	if after != nil {
		after(op, body)
	}
}

func (l *callLog) slowDown(slow map[string]time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slow = slow
}

func (l *callLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// callOf names a request's operation and what it acts on.
func callOf(r *http.Request, body []byte) (op, subject string) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		_, op, _ = strings.Cut(target, ".")
		return op, in.SecretId
	}
	form, _ := url.ParseQuery(string(body))
	return form.Get("Action"), form.Get("RoleName")
}

// first returns the index of the first event with prefix whose subject
// ends with suffix (an ARN or a name), -1 when there is none.
func first(events []string, prefix, suffix string) int {
	return slices.IndexFunc(events, func(e string) bool {
		return strings.HasPrefix(e, prefix+" ") && (strings.HasSuffix(e, suffix) || strings.Contains(e, ":secret:"+suffix+"-"))
	})
}

// TestNarrowingPrecedesTheNewValue, as the deployer on the enforcing
// sandbox: one apply removes the batch role and a reader of another
// account from a locked secret and changes its value. The resource
// policy that drops them and batch's narrowed read policy both end
// before the new value is written, so neither removed reader can read
// it; a resource policy that only adds a reader keeps the value first.
func TestNarrowingPrecedesTheNewValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	const partner = "arn:aws:iam::222222222222:role/partner"
	version := func(value string, readers []string, foreign ...string) *spec.Desired {
		d := resourcePolicySpec(true)
		d.SpecHash = fmt.Sprint(value, readers, foreign)
		db := d.Secrets[0]
		db.Payload.Declared = spec.SealString(canary + "-" + value)
		db.Readers = nil
		for _, r := range readers {
			db.Readers = append(db.Readers, spec.Reader{Role: r})
		}
		db.CrossAccountReaders = foreign
		return d
	}
	wide := version("v1", []string{"batch", "web"}, partner)
	installBoundary(t, admin, wide)
	doc, err := provision.DeployerPolicy(wide)
	if err != nil {
		t.Fatal(err)
	}
	log, logged := startCallLog(t, env)
	deployer := (&deployerFixture{env: logged, admin: admin}).connect(t, doc)
	if err := converge1(ctx, deployer, wide, false); err != nil {
		t.Fatal(err)
	}

	const db = "dev/app/db"
	narrow := version("v2", []string{"web"})
	p, err := planOf(ctx, deployer, narrow, false)
	if err != nil {
		t.Fatal(err)
	}
	var deps []string
	for _, c := range p.Changes {
		if c.ID == "secret:"+db {
			deps = c.DependsOn
		}
	}
	if want := []string{"resource_policy:" + db, "role_policy:shop-dev-batch/" + provision.ReadPolicyName}; !slices.Equal(deps, want) {
		t.Errorf("the new value of %s waits for %v, want %v", db, deps, want)
	}
	// IAM is slow to answer: nothing but the dependency keeps the new
	// value from overtaking batch's narrowed policy.
	log.slowDown(map[string]time.Duration{"PutRolePolicy": 300 * time.Millisecond})
	log.take()
	if err := converge1(ctx, deployer, narrow, false); err != nil {
		t.Fatal(err)
	}
	log.slowDown(nil)
	events := log.take()
	write := first(events, "begin PutSecretValue", db)
	if write < 0 {
		t.Fatalf("the apply wrote no value of %s:\n%s", db, strings.Join(events, "\n"))
	}
	for _, narrowing := range []struct{ op, subject string }{
		{"PutResourcePolicy", db},
		{"PutRolePolicy", "shop-dev-batch"}, // batch still reads jobs/feed
	} {
		at := first(events, "end "+narrowing.op, narrowing.subject)
		if at < 0 || at > write {
			t.Errorf("%s %s ended at %d, after the new value began at %d:\n%s", narrowing.op, narrowing.subject, at, write, strings.Join(events, "\n"))
		}
	}

	// Adding a reader broadens only: the new value comes first, so the
	// lock never lets batch read the value it replaces.
	broad := version("v3", []string{"batch", "web"})
	if err := converge1(ctx, deployer, broad, false); err != nil {
		t.Fatal(err)
	}
	events = log.take()
	write = first(events, "end PutSecretValue", db)
	if at := first(events, "begin PutResourcePolicy", db); write < 0 || at < write {
		t.Errorf("PutResourcePolicy %s began at %d, before the new value ended at %d:\n%s", db, at, write, strings.Join(events, "\n"))
	}
}
