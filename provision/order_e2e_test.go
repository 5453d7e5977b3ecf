package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
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
	// replicatingAsAWS makes ReplicateSecretToRegions answer every
	// replica InProgress, as AWS does (it replicates after answering);
	// the sandbox replicates before it answers.
	replicatingAsAWS bool
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
	after, slow, asAWS := l.after, l.slow[op], l.replicatingAsAWS
	l.mu.Unlock()
	time.Sleep(slow)
	// The answer is held until the call has ended in the log and after
	// has run, so the caller sees their effects.
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	out := rec.Body.Bytes()
	if asAWS && op == "ReplicateSecretToRegions" {
		for _, st := range []string{"InSync", "Failed"} {
			out = bytes.ReplaceAll(out, []byte(`"Status":"`+st+`"`), []byte(`"Status":"InProgress"`))
		}
	}
	l.add("end " + op + " " + subject)
	if after != nil {
		after(op, body)
	}
	maps.Copy(w.Header(), rec.Header())
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
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

// firstEvent returns the index of the first event with prefix whose subject
// ends with suffix (an ARN or a name), -1 when there is none.
func firstEvent(events []string, prefix, suffix string) int {
	return slices.IndexFunc(events, func(e string) bool {
		return strings.HasPrefix(e, prefix+" ") && (strings.HasSuffix(e, suffix) || strings.Contains(e, ":secret:"+suffix+"-"))
	})
}

// adminIn is a Secrets Manager client of env's administrator in region.
func adminIn(env *sandboxtest.Env, region string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, region,
		credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "")))
}

// lingerOldReplica makes the next removal l sees of the replica in
// eu-west-1 of one of names leave a secret of that name there, as AWS may
// while it deletes the old replica; the stand-in is deleted after linger
// (never when 0). It returns a channel closed once the stand-in is gone
// and, valid from then on, the name it stood for.
func (l *callLog) lingerOldReplica(t *testing.T, env *sandboxtest.Env, names []string, linger time.Duration) (gone <-chan struct{}, lingered func() string) {
	ctx := context.Background()
	eu := adminIn(env, "eu-west-1")
	done := make(chan struct{})
	var name string
	var once sync.Once
	l.mu.Lock()
	defer l.mu.Unlock()
	l.after = func(op string, body []byte) {
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		i := slices.IndexFunc(names, func(n string) bool { return in.SecretId == n || strings.Contains(in.SecretId, ":secret:"+n+"-") })
		if op != "RemoveRegionsFromReplication" || !strings.Contains(string(body), "eu-west-1") || i < 0 {
			return
		}
		once.Do(func() {
			name = names[i]
			if _, err := eu.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("old replica")}); err != nil {
				t.Errorf("standing in for the old replica: %v", err)
			}
			if linger == 0 {
				return
			}
			time.AfterFunc(linger, func() {
				defer close(done)
				if _, err := eu.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
					t.Errorf("deleting the stand-in: %v", err)
				}
			})
		})
	}
	return done, func() string { return name }
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
	log, deployer := lockedDeployer(t, "batch", "web")

	const db = "dev/app/db"
	narrow := lockedDB("v2", []string{"web"})
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
	write := firstEvent(events, "begin PutSecretValue", db)
	if write < 0 {
		t.Fatalf("the apply wrote no value of %s:\n%s", db, strings.Join(events, "\n"))
	}
	for _, narrowing := range []struct{ op, subject string }{
		{"PutResourcePolicy", db},
		{"PutRolePolicy", "shop-dev-batch"}, // batch still reads jobs/feed
	} {
		at := firstEvent(events, "end "+narrowing.op, narrowing.subject)
		if at < 0 || at > write {
			t.Errorf("%s %s ended at %d, after the new value began at %d:\n%s", narrowing.op, narrowing.subject, at, write, strings.Join(events, "\n"))
		}
	}

	// Adding a reader broadens only: the new value comes first, so the
	// lock never lets batch read the value it replaces.
	broad := lockedDB("v3", []string{"batch", "web"})
	if err := converge1(ctx, deployer, broad, false); err != nil {
		t.Fatal(err)
	}
	events = log.take()
	write = firstEvent(events, "end PutSecretValue", db)
	if at := firstEvent(events, "begin PutResourcePolicy", db); write < 0 || at < write {
		t.Errorf("PutResourcePolicy %s began at %d, before the new value ended at %d:\n%s", db, at, write, strings.Join(events, "\n"))
	}
}

// TestReaddedReplicaOutlastsTheOldOne, as the deployer on the enforcing
// sandbox: a failed replica is retried (removed, then added again) while
// the old replica, as AWS may do, is still being deleted after
// RemoveRegionsFromReplication answered: a secret of the name stays in
// the region for a moment, and the new replica first fails as a name
// clash, which ReplicateSecretToRegions (answering InProgress, as AWS
// does) does not tell and DescribeSecret does. Apply removes and adds it
// again, with backoff, until it replicates; when the name never frees up,
// apply fails, saying so, once the propagation timeout has passed, and
// the next apply, adding it once more, fails too.
func TestReaddedReplicaOutlastsTheOldOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true,
		Regions: []string{"us-west-2", "eu-west-1"}, KMSKeys: []string{westKey}})
	admin := sandboxBackend(env).mustConnect(t)
	d := replicatedDesired("db.internal")
	log, logged := startCallLog(t, env)
	s := stageDeployer(t, logged, admin, d)
	if err := converge1(ctx, s, d, false); err != nil {
		t.Fatal(err)
	}
	db := d.Secrets[0].Name
	euStatus := func() string {
		t.Helper()
		out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.ReplicationStatus {
			if aws.ToString(r.Region) == "eu-west-1" {
				return string(r.Status) + " " + aws.ToString(r.StatusMessage)
			}
		}
		return "none"
	}
	retry := func() *provision.Plan {
		t.Helper()
		if err := env.Server.FailReplica("eu-west-1", db); err != nil {
			t.Fatal(err)
		}
		p := plan(t, s, d, provision.DiffOptions{})
		if got := strings.Join(replicaOps(p, db), ", "); got != "retry eu-west-1" {
			t.Fatalf("plan after the replica failed: %q", got)
		}
		return p
	}

	log.mu.Lock()
	log.replicatingAsAWS = true
	log.mu.Unlock()
	gone, _ := log.lingerOldReplica(t, env, []string{db}, 600*time.Millisecond)
	p := retry()
	log.take()
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 30 * time.Second}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	awaitClosed(t, gone, "the old replica was never removed")
	if got := euStatus(); !strings.HasPrefix(got, "InSync") {
		t.Fatalf("the retried replica in eu-west-1 is %s", got)
	}
	events := log.take()
	begun := func(op string) int {
		return len(slices.DeleteFunc(slices.Clone(events), func(e string) bool { return !strings.HasPrefix(e, "begin "+op+" ") }))
	}
	if n := begun("ReplicateSecretToRegions"); n < 2 {
		t.Errorf("ReplicateSecretToRegions was called %d times, want the first attempt and at least one more", n)
	}
	added := firstEvent(events, "begin ReplicateSecretToRegions", db)
	if !slices.ContainsFunc(events[added+1:], func(e string) bool { return strings.HasPrefix(e, "begin DescribeSecret ") }) {
		t.Errorf("apply did not ask DescribeSecret how the replica fared after the first attempt and the next:\n%s", strings.Join(events, "\n"))
	}
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after the retry:\n%s", textOf(t, p))
	}

	// The name never frees up: apply gives up, saying why.
	log.lingerOldReplica(t, env, []string{db}, 0)
	p = retry()
	_, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "the name is still taken in eu-west-1") {
		t.Fatalf("apply while the old replica is never deleted: %v", err)
	}

	// Run again later, as that error says, while the name is still
	// taken: the replica, failed for the name, is added again once and
	// apply fails again, saying so, instead of reporting success.
	p = plan(t, s, d, provision.DiffOptions{})
	if got := strings.Join(replicaOps(p, db), ", "); got != "retry eu-west-1" {
		t.Fatalf("plan while another secret holds the name: %q", got)
	}
	log.take()
	_, err = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "a secret of its name still exists in eu-west-1") {
		t.Fatalf("apply while another secret holds the name: %v", err)
	}
	events = log.take()
	if n := begun("ReplicateSecretToRegions"); n != 1 {
		t.Errorf("ReplicateSecretToRegions was called %d times while another secret holds the name, want 1", n)
	}
	if got := euStatus(); !strings.Contains(got, "already exists") {
		t.Errorf("the replica in eu-west-1 is %s, want the name clash", got)
	}
}

// awaitClosed waits for ch to close, failing with why instead of hanging
// until go test's timeout.
func awaitClosed(t *testing.T, ch <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal(why)
	}
}
