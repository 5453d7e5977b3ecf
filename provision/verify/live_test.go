package verify_test

import (
	"strings"
	"testing"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
)

// TestLiveResourcePolicies: each existing secret whose policy Observe read
// gets the live one (none when it has none), its replicas the primary's;
// a secret Observe did not read, or that does not exist, keeps the spec's;
// a live policy that does not parse is an error naming the secret.
func TestLiveResourcePolicies(t *testing.T) {
	spec := policy.ResourcePolicy(nil, []string{"arn:aws:iam::000000000000:role/ci/deployer"})
	live := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"secretsmanager:DeleteSecret","Resource":"*"}]}`
	secrets := []verify.Secret{
		{Key: "db", Name: "dev/db", Exists: true, Resource: spec},
		{Key: "db", Name: verify.ReplicaName("dev/db", "us-west-2"), Exists: true, Resource: spec},
		{Key: "feed", Name: "dev/feed", Exists: true, Resource: spec},
		{Key: "new", Name: "dev/new", Exists: false, Resource: spec},
		{Key: "plain", Name: "dev/plain", Exists: true},
	}
	o := &provision.Observed{ResourcePolicies: map[string]string{"dev/db": live, "dev/feed": "", "dev/new": live}}
	got, err := verify.LiveResourcePolicies(secrets, o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"dev/db": live,
		verify.ReplicaName("dev/db", "us-west-2"): live,
		"dev/feed":  "none",
		"dev/new":   string(spec.Canonical()),
		"dev/plain": "none",
	}
	for _, s := range got {
		doc := "none"
		if s.Resource != nil {
			doc = string(s.Resource.Canonical())
		}
		w := want[s.Name]
		if w == live {
			p, _ := policy.Parse([]byte(live))
			w = string(p.Canonical())
		}
		if doc != w {
			t.Errorf("%s: resource policy %s, want %s", s.Name, doc, w)
		}
	}
	if secrets[0].Resource != spec {
		t.Error("LiveResourcePolicies changed its argument")
	}
	o.ResourcePolicies["dev/db"] = "{not json"
	if _, err := verify.LiveResourcePolicies(secrets, o); err == nil || !strings.Contains(err.Error(), "secret dev/db") {
		t.Errorf("an unparsable live policy: %v, want an error naming dev/db", err)
	}
}
