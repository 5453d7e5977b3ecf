package verify_test

import (
	"strings"
	"testing"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

const partnerARN = "arn:aws:iam::222222222222:role/partner"

// crossShop is shop() with dev/app/stripe locked, on a customer managed
// key, and read by the cross-account role partner as well.
func crossShop() *spec.Desired {
	d := shop()
	d.DeployerARN = "arn:aws:iam::111111111111:role/deployer"
	d.CrossAccountRoles = []*spec.Role{{Key: "partner", Name: "partner", External: partnerARN, CrossAccount: true}}
	s := d.Secrets[1]
	s.ResourcePolicy, s.CrossAccountReaders = true, []string{partnerARN}
	s.KMSKeyARN = "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-aaaa-4c2e-9a0e-000000000001"
	return d
}

// TestCrossAccountOffline: a cross-account reader's side in this account,
// the resource policy's Allow, is decided offline: it may read its secret
// and nothing else, so verify passes; its other side (the role's identity
// policy, the key policy) is one unverified entry that says what to check
// in the other account and does not fail verify. A lock that lost its
// Allow is missing access.
func TestCrossAccountOffline(t *testing.T) {
	d := crossShop()
	in := provision.Resolve(d, nil)
	docs, err := in.Documents()
	if err != nil {
		t.Fatal(err)
	}
	_, secrets := verify.Targets(d, docs, in.Secrets)
	m := verify.Offline(docs, secrets)
	var partner []string
	for _, c := range m.Cells {
		if c.Role == "partner" && c.Allowed {
			partner = append(partner, c.Action+" "+c.Secret)
		}
	}
	if want := "[secretsmanager:GetSecretValue dev/app/stripe]"; strings.Join(partner, ",") != strings.Trim(want, "[]") {
		t.Errorf("partner may %v offline, want %s", partner, want)
	}
	r := verify.NewResult(d, verify.Local, m)
	if !r.OK || len(r.Differences) != 0 {
		t.Errorf("verify with a cross-account reader: OK %v, differences %v", r.OK, r.Differences)
	}
	if len(r.CrossAccount) != 1 || r.CrossAccount[0].Kind != verify.Unverified || r.CrossAccount[0].Role != "partner" ||
		!strings.Contains(r.CrossAccount[0].Reason, "in account 222222222222") || !strings.Contains(r.CrossAccount[0].Reason, "key-policy") {
		t.Errorf("cross-account entries %+v, want one unverified partner naming its account and the key policy", r.CrossAccount)
	}

	for i := range secrets {
		if rp := secrets[i].Resource; rp != nil {
			if st := rp.Statement[len(rp.Statement)-1]; st.Sid != policy.SidAllowCrossAccountReaders {
				t.Fatalf("the lock's last statement is %s", st.Sid)
			}
			secrets[i].Resource = &policy.Document{Version: rp.Version, Statement: rp.Statement[:len(rp.Statement)-1]}
		}
	}
	r = verify.NewResult(d, verify.Local, verify.Offline(docs, secrets))
	if r.OK || len(r.Differences) != 1 || r.Differences[0].Kind != verify.Missing || r.Differences[0].Role != "partner" || r.Differences[0].Action != verify.GetSecretValue {
		t.Errorf("a lock without the partner's Allow: %v, want partner's GetSecretValue missing", r.Differences)
	}
}

// TestCrossAccountOnline: on the sandbox, the simulator is never asked
// about the cross-account role (it could not take it); its cells come
// from the resource policies of the existing secrets, and the result
// passes with the other side unverified.
func TestCrossAccountOnline(t *testing.T) {
	t.Parallel()
	d := crossShop()
	d.DeployerARN = "arn:aws:iam::111111111111:user/sandbox-admin" // who applies it here: plan refuses to lock the caller out
	for _, s := range d.Secrets {
		s.RecoveryWindowDays = 7
		s.Payload = spec.Payload{Kind: spec.KindString, Declared: spec.SealString("verify-" + s.Key)}
	}
	env, s, client := applied(t, d)
	env.Server.ResetStats()
	on, off := online(t, s, client, d)
	if got := env.Server.Stats().Calls["iam.SimulatePrincipalPolicy"]; got == 0 {
		t.Fatal("no simulation")
	}
	r := verify.NewResult(d, verify.Simulated, on)
	if !r.OK || len(r.CrossAccount) != 1 {
		t.Errorf("online: OK %v, differences %v, cross-account %v", r.OK, r.Differences, r.CrossAccount)
	}
	if diffs := verify.Compare(off, on); len(diffs) != 0 {
		t.Errorf("offline and online matrices disagree: %v", diffs)
	}
	if c, ok := on.Lookup("partner", "dev/app/stripe", verify.GetSecretValue); !ok || !c.Allowed {
		t.Errorf("online partner GetSecretValue on dev/app/stripe: %+v, %v; want allowed by the resource policy", c, ok)
	}
}
