package provision_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

// gate holds each request of the gated Secrets Manager operations until
// one of every gated operation has arrived, or until a timeout: reads
// that Observe makes one batch after another never all arrive, and so
// time out.
type gate struct {
	armed   atomic.Bool
	mu      sync.Mutex
	ops     map[string]bool // gated operation → arrived
	open    chan struct{}
	timeout bool
}

func newGate(ops ...string) *gate {
	g := &gate{ops: map[string]bool{}, open: make(chan struct{})}
	for _, op := range ops {
		g.ops[op] = false
	}
	return g
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.armed.Load() {
			next.ServeHTTP(w, r)
			return
		}
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
		g.mu.Lock()
		arrived, gated := g.ops[op]
		if gated && !arrived {
			g.ops[op] = true
			all := true
			for _, ok := range g.ops {
				all = all && ok
			}
			if all {
				close(g.open)
			}
		}
		g.mu.Unlock()
		if gated {
			select {
			case <-g.open:
			case <-time.After(5 * time.Second):
				g.mu.Lock()
				g.timeout = true
				g.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestObserveFollowUpsRunTogether: the reads Observe makes after the
// listings (here the history of a secret whose declaration changed and the
// resource policies of the secrets that opt in) are in flight at once, not
// one kind after another.
func TestObserveFollowUpsRunTogether(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Options{Account: sandboxAccount})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	g := newGate("ListSecretVersionIds", "GetResourcePolicy")
	ts := httptest.NewServer(g.wrap(srv))
	t.Cleanup(ts.Close)
	s := (&backend{name: "sandbox", endpoint: ts.URL, account: sandboxAccount}).mustConnect(t)

	d := resourcePolicySpec(true)
	d.BreakGlass = append(d.BreakGlass, s.Identity.ARN) // the admin applies here, not the deployer
	converge(t, s, d, provision.DiffOptions{})
	d.Secrets[1].Payload.Declared = spec.SealString(canary + "-changed")

	g.armed.Store(true)
	o, err := provision.Observe(context.Background(), s, d)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	if g.timeout {
		t.Errorf("the follow-up reads ran one kind after another: %v", g.ops)
	}
	g.mu.Unlock()
	if len(o.ResourcePolicies) != 2 {
		t.Errorf("resource policies read: %v, want both secrets'", o.ResourcePolicies)
	}
	if h := o.Secrets[d.Secrets[1].Name].History; h == nil {
		t.Error("the changed secret's history was not read")
	}
}
