package provision_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/review"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// policyWrites records the IAM policy documents the requests through it
// write, by the role (PutRolePolicy) or managed policy (CreatePolicy,
// CreatePolicyVersion) they are written to: the documents as they reach
// AWS, not as the engine says it sends them.
type policyWrites struct {
	mu   sync.Mutex
	docs map[string][]string // "role/<name>" or "policy/<name>" → documents, in order
}

// proxy forwards every request to target, recording policy writes.
func (w *policyWrites) proxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.record(body)
		forward.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (w *policyWrites) record(body []byte) {
	q, err := url.ParseQuery(string(body))
	if err != nil || q.Get("PolicyDocument") == "" {
		return
	}
	var key string
	switch q.Get("Action") {
	case "PutRolePolicy":
		key = "role/" + q.Get("RoleName")
	case "CreatePolicy":
		key = "policy/" + q.Get("PolicyName")
	case "CreatePolicyVersion":
		arn := q.Get("PolicyArn")
		key = "policy/" + arn[strings.LastIndex(arn, "/")+1:]
	default:
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.docs[key] = append(w.docs[key], q.Get("PolicyDocument"))
}

// last is the document last written to key, parsed; nil when none was.
func (w *policyWrites) last(t *testing.T, key string) *policy.Document {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	docs := w.docs[key]
	if len(docs) == 0 {
		return nil
	}
	doc, err := policy.Parse([]byte(docs[len(docs)-1]))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return doc
}

func canonical(d *policy.Document) string {
	if d == nil {
		return ""
	}
	return string(d.Canonical())
}

// TestOneIntent: the read policies a plan shows, the reviewer files, the
// documents `verify` evaluates and the documents apply writes are the
// same values, those of the stage's one Intent: for a managed role whose
// read policy is split into managed parts (web) and one whose policy is
// inline (api), both changed against a converged stage so that every ARN
// is exact.
func TestOneIntent(t *testing.T) {
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	writes := &policyWrites{docs: map[string][]string{}}
	b := &backend{name: "sandbox", endpoint: writes.proxy(t, env.URL), account: sandboxAccount}
	s := b.mustConnect(t)
	d := bulkDesired("intent", sandboxAccount, 200)
	converge(t, s, d, provision.DiffOptions{})

	// Every bulk secret becomes describable, which changes every part of
	// web's split policy, and a new role reads the database secret.
	for _, sec := range d.Secrets[2:] {
		sec.Readers[0].Describe = true
	}
	d.Roles = append(d.Roles, &spec.Role{Key: "api", Name: "shop-intent-api", Services: []string{"ec2.amazonaws.com"}})
	d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "api"})
	d.SpecHash = "spec-2"

	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	in := provision.Resolve(d, o)
	docs, err := in.Documents()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]provision.RoleDocuments{}
	for _, rd := range docs {
		if len(rd.Pending) > 0 {
			t.Fatalf("role %s: pending ARNs %v on a converged stage", rd.Key, rd.Pending)
		}
		byKey[rd.Key] = rd
	}
	web, api := byKey["web"], byKey["api"]
	if len(web.Layout.Managed) < 2 || api.Layout.Inline == nil {
		t.Fatalf("want web split and api inline; web has %d parts, api inline %v", len(web.Layout.Managed), api.Layout.Inline != nil)
	}

	p, err := provision.Diff(d, o, provision.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	samePlan(t, p, byKey)
	sameReviewFiles(t, docs, byKey)

	res, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply: %v (%+v)", err, res)
	}
	// What apply wrote, placed where the intent places it.
	written := append([]provision.RoleDocuments(nil), docs...)
	for i, rd := range written {
		switch rd.Key {
		case "api":
			got := writes.last(t, "role/"+rd.Name)
			if diff := cmp.Diff(canonical(rd.Read), canonical(got)); diff != "" {
				t.Errorf("api: apply wrote another inline policy than the intent's (-intent +written):\n%s", diff)
			}
			written[i].Layout = policy.Layout{Inline: got}
		case "web":
			var parts []*policy.Document
			for j, name := range rd.PartNames {
				got := writes.last(t, "policy/"+name)
				if diff := cmp.Diff(canonical(rd.Layout.Managed[j]), canonical(got)); diff != "" {
					t.Errorf("web part %s: apply wrote another document than the intent's (-intent +written):\n%s", name, diff)
				}
				parts = append(parts, got)
			}
			written[i].Layout = policy.Layout{Managed: parts}
		}
	}
	// verify evaluates the intent's documents: the same access as the
	// documents apply wrote grant.
	_, secrets := verify.Targets(d, docs, in.Secrets)
	if diff := cmp.Diff(verify.Offline(docs, secrets), verify.Offline(written, secrets)); diff != "" {
		t.Errorf("verify's matrix differs from the access apply's writes grant (-intent +written):\n%s", diff)
	}
}

// samePlan checks that the plan's read policy documents are the intent's.
func samePlan(t *testing.T, p *provision.Plan, byKey map[string]provision.RoleDocuments) {
	t.Helper()
	byRole := map[string]provision.RoleDocuments{}
	for _, rd := range byKey {
		byRole[rd.Name] = rd
	}
	seen := 0
	for _, c := range p.Changes {
		if c.Kind != provision.KindRolePolicy {
			continue
		}
		rd, ok := byRole[c.Policy.Role]
		if !ok {
			t.Fatalf("plan changes the read policy of %s, which the intent does not name", c.Policy.Role)
		}
		seen++
		if c.Policy.Document != canonical(rd.Read) {
			t.Errorf("role %s: the plan's document is not the intent's read policy", rd.Key)
		}
		var managed []provision.ManagedPolicyChange
		for _, m := range c.Policy.Managed {
			if m.Action != provision.ActionDelete {
				managed = append(managed, m)
			}
		}
		if len(managed) != len(rd.PartNames) {
			t.Fatalf("role %s: the plan has %d parts, the intent %d", rd.Key, len(managed), len(rd.PartNames))
		}
		for i, m := range managed {
			if m.Name != rd.PartNames[i] || m.Document != canonical(rd.Layout.Managed[i]) {
				t.Errorf("role %s: the plan's part %d (%s) is not the intent's (%s)", rd.Key, i+1, m.Name, rd.PartNames[i])
			}
		}
	}
	if seen != 2 {
		t.Errorf("the plan changes %d read policies, want 2 (web and api)", seen)
	}
}

// sameReviewFiles checks that the reviewer files hold the intent's
// documents.
func sameReviewFiles(t *testing.T, docs []provision.RoleDocuments, byKey map[string]provision.RoleDocuments) {
	t.Helper()
	files := review.Files(docs, nil)
	want := map[string]*policy.Document{"api.json": byKey["api"].Read, "api.trust.json": byKey["api"].Trust, "web.trust.json": byKey["web"].Trust}
	for i, doc := range byKey["web"].Layout.Managed {
		want["web.managed-"+strconv.Itoa(i+1)+".json"] = doc
	}
	if len(files) != len(want) {
		t.Errorf("%d reviewer files, want %d", len(files), len(want))
	}
	for _, f := range files {
		if w, ok := want[f.Name]; !ok || canonical(f.Doc) != canonical(w) {
			t.Errorf("reviewer file %s does not hold the intent's document", f.Name)
		}
	}
}
