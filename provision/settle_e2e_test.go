package provision_test

import (
	"context"
	"encoding/json"
	"fmt"
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

// endTimes records, through a callLog's after hook, when each call ended,
// as "<Operation> <subject>" → the first end.
type endTimes struct {
	mu  sync.Mutex
	end map[string]time.Time
}

func timeCalls(l *callLog) *endTimes {
	e := &endTimes{end: map[string]time.Time{}}
	l.mu.Lock()
	l.after = func(op string, body []byte) {
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		subject := in.SecretId
		if form, err := url.ParseQuery(string(body)); subject == "" && err == nil {
			subject = form.Get("RoleName")
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if k := op + " " + subject; e.end[k].IsZero() {
			e.end[k] = time.Now()
		}
	}
	l.mu.Unlock()
	return e
}

func (e *endTimes) take() map[string]time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.end
	e.end = map[string]time.Time{}
	return out
}

// endOf returns when the first call of op on a subject ending with suffix
// (a name, or an ARN of the secret suffix) ended; zero when none did.
func endOf(ends map[string]time.Time, op, suffix string) time.Time {
	for k, at := range ends {
		if strings.HasPrefix(k, op+" ") && (strings.HasSuffix(k, suffix) || strings.Contains(k, ":secret:"+suffix+"-")) {
			return at
		}
	}
	return time.Time{}
}

// lockedDB is resourcePolicySpec's dev/app/db, locked, with value, read
// by readers and by the roles foreign of another account.
func lockedDB(value string, readers []string, foreign ...string) *spec.Desired {
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

// partnerRole is a reader of another account.
const partnerRole = "arn:aws:iam::222222222222:role/partner"

// lockedDeployer starts the enforcing sandbox and, as the deployer
// through a callLog, applies lockedDB v1 read by readers and partnerRole.
func lockedDeployer(t *testing.T, readers ...string) (*callLog, *provision.Session) {
	t.Helper()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	wide := lockedDB("v1", readers, partnerRole)
	log, logged := startCallLog(t, env)
	deployer := stageDeployer(t, logged, sandboxBackend(env).mustConnect(t), wide)
	if err := converge1(context.Background(), deployer, wide, false); err != nil {
		t.Fatal(err)
	}
	return log, deployer
}

// TestNarrowingSettles, as the deployer on the enforcing sandbox: a new
// value that waits for a narrowing resource policy and read policy is
// written Settle after the later of them has ended, not the moment it
// answers (IAM propagates eventually); an apply that only broadens never
// waits, however long Settle is.
func TestNarrowingSettles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, deployer := lockedDeployer(t, "batch", "web")
	times := timeCalls(log)
	apply := func(d *spec.Desired, settle time.Duration) {
		t.Helper()
		p, err := planOf(ctx, deployer, d, false)
		if err != nil {
			t.Fatal(err)
		}
		times.take()
		if _, err := provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{PropagationTimeout: 5 * time.Second, Settle: settle}); err != nil {
			t.Fatal(err)
		}
	}

	const db, settle = "dev/app/db", 1500 * time.Millisecond
	apply(lockedDB("v2", []string{"web"}), settle)
	ends := times.take()
	write := endOf(ends, "PutSecretValue", db)
	for _, narrowing := range []struct{ op, subject string }{
		{"PutResourcePolicy", db},
		{"PutRolePolicy", "shop-dev-batch"},
	} {
		at := endOf(ends, narrowing.op, narrowing.subject)
		if at.IsZero() || write.IsZero() || write.Sub(at) < settle {
			t.Errorf("the new value of %s was written %v after %s %s ended, want at least %v", db, write.Sub(at), narrowing.op, narrowing.subject, settle)
		}
	}

	// Broadening only (a reader added back, a new value): nothing waits.
	start := time.Now()
	apply(lockedDB("v3", []string{"batch", "web"}), time.Minute)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("an apply that only broadens took %v with a Settle of a minute", took)
	}
	if endOf(times.take(), "PutSecretValue", db).IsZero() {
		t.Error("the broadening apply wrote no value")
	}
}

// TestRestoreLocksBeforeTheValue, as the deployer on the enforcing
// sandbox: a locked secret that admitted a reader of another account is
// dropped from the spec (scheduled for deletion with its lock), then
// declared again with a new value and without that reader. Observe reads
// no deleted secret's policy, so the old lock, restored with the secret,
// would admit the removed reader until the new one is put: apply puts it
// between RestoreSecret and the value, and waits Settle before the value.
func TestRestoreLocksBeforeTheValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, deployer := lockedDeployer(t, "web")
	dropped := lockedDB("v1", []string{"web"}, partnerRole)
	dropped.Secrets = dropped.Secrets[1:]
	dropped.SpecHash = "dropped"
	if err := converge1(ctx, deployer, dropped, false); err != nil {
		t.Fatal(err)
	}

	const db, settle = "dev/app/db", time.Second
	back := lockedDB("v2", []string{"web"})
	p, err := planOf(ctx, deployer, back, false)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range p.Changes {
		if c.Name == db {
			actions = append(actions, c.ID+" "+string(c.Action))
		}
	}
	if want := []string{"secret:" + db + " restore", "resource_policy:" + db + " create"}; !slices.Equal(actions, want) {
		t.Fatalf("the changes of %s: %v, want %v", db, actions, want)
	}
	times := timeCalls(log)
	log.take()
	if _, err := provision.Apply(ctx, deployer, p, back, provision.ApplyOptions{PropagationTimeout: 5 * time.Second, Settle: settle}); err != nil {
		t.Fatal(err)
	}
	events, ends := log.take(), times.take()
	restored := firstEvent(events, "end RestoreSecret", db)
	locked := firstEvent(events, "begin PutResourcePolicy", db)
	lockedEnd := firstEvent(events, "end PutResourcePolicy", db)
	write := firstEvent(events, "begin PutSecretValue", db)
	if restored < 0 || locked < restored || lockedEnd < 0 || write < lockedEnd {
		t.Errorf("want RestoreSecret, then PutResourcePolicy, then the new value of %s:\n%s", db, strings.Join(events, "\n"))
	}
	if n := len(slices.DeleteFunc(slices.Clone(events), func(e string) bool { return !strings.HasPrefix(e, "begin PutResourcePolicy ") })); n != 1 {
		t.Errorf("PutResourcePolicy was called %d times, want once", n)
	}
	if gap := endOf(ends, "PutSecretValue", db).Sub(endOf(ends, "PutResourcePolicy", db)); gap < settle {
		t.Errorf("the new value was written %v after the lock, want at least %v", gap, settle)
	}
	if err := emptyPlan(ctx, deployer, back, false); err != nil {
		t.Fatal(err)
	}
}
