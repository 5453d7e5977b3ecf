package policy

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

const (
	rpReader   = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
	rpOther    = "arn:aws:iam::111111111111:role/admin-everything"
	rpDeployer = "arn:aws:iam::111111111111:role/deployer"
	rpGlass    = "arn:aws:iam::111111111111:role/break-glass"
)

func TestResourcePolicyGolden(t *testing.T) {
	tests := []struct {
		name            string
		readers, admins []string
	}{
		{"one_reader", []string{rpReader}, []string{rpDeployer}},
		{"break_glass", []string{rpReader, rpOther + "-x", rpReader}, []string{rpGlass, rpDeployer}},
		{"no_readers", nil, []string{rpDeployer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ResourcePolicy(tt.readers, tt.admins)
			// Not beside the identity and trust goldens, which sandbox/iam
			// checks against IAM's grammar: these are Secrets Manager's.
			golden.Check(t, filepath.Join("testdata", "resource", tt.name+".golden"), d.Canonical())
			again, err := Parse(d.Canonical())
			if err != nil {
				t.Fatalf("synthesized policy does not parse: %v", err)
			}
			if diff := cmp.Diff(d, again); diff != "" {
				t.Errorf("synthesized policy is not canonical (-want +got):\n%s", diff)
			}
			r, a := append([]string(nil), tt.readers...), append([]string(nil), tt.admins...)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
				a[i], a[j] = a[j], a[i]
			}
			if !bytes.Equal(ResourcePolicy(r, a).Canonical(), d.Canonical()) {
				t.Error("ResourcePolicy depends on the order of its inputs")
			}
		})
	}
	if d := ResourcePolicy([]string{rpReader}, nil); d != nil {
		t.Errorf("a resource policy without admins locks the deployer out, want nil: %s", d.Canonical())
	}
}

// TestResourcePolicyEvaluate evaluates the resource policy together with
// identity policies, as Secrets Manager does in the secret's account: the
// policy's Deny beats another identity policy's secretsmanager:* on *, the
// readers keep the grant of their read policies, and only the deployer and
// break-glass principals may change the policy.
func TestResourcePolicyEvaluate(t *testing.T) {
	secret := secretARN("dev/app/db-AbCdEf")
	rp := ResourcePolicy([]string{rpReader}, []string{rpDeployer, rpGlass})
	readPolicy := ReadPolicy("us-east-1", []Grant{{SecretARN: secret}})
	everything := &Document{Version: "2012-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"secretsmanager:*"}, Resource: StringList{"*"}}}}
	session := func(role string) string {
		return "arn:aws:sts::111111111111:assumed-role/" + role[len("arn:aws:iam::111111111111:role/"):] + "/s"
	}
	tests := []struct {
		name      string
		principal string // role ARN; the caller is a session of it
		identity  []*Document
		resource  *Document
		action    string
		want      Decision
	}{
		{"reader reads", rpReader, []*Document{readPolicy}, rp, actionGetSecretValue, Allowed},
		{"reader without the lock reads", rpReader, []*Document{readPolicy}, nil, actionGetSecretValue, Allowed},
		{"secretsmanager:* without the lock reads", rpOther, []*Document{everything}, nil, actionGetSecretValue, Allowed},
		{"secretsmanager:* is denied by the lock", rpOther, []*Document{everything}, rp, actionGetSecretValue, ExplicitDeny},
		{"secretsmanager:* cannot lift the lock", rpOther, []*Document{everything}, rp, "secretsmanager:DeleteResourcePolicy", ExplicitDeny},
		{"secretsmanager:* cannot replace the lock", rpOther, []*Document{everything}, rp, "secretsmanager:PutResourcePolicy", ExplicitDeny},
		{"secretsmanager:* still describes", rpOther, []*Document{everything}, rp, actionDescribeSecret, Allowed},
		{"reader with secretsmanager:* cannot lift the lock", rpReader, []*Document{readPolicy, everything}, rp, "secretsmanager:DeleteResourcePolicy", ExplicitDeny},
		{"deployer reads", rpDeployer, []*Document{everything}, rp, actionGetSecretValue, Allowed},
		{"deployer replaces the lock", rpDeployer, []*Document{everything}, rp, "secretsmanager:PutResourcePolicy", Allowed},
		{"break glass reads", rpGlass, []*Document{everything}, rp, actionGetSecretValue, Allowed},
		{"the lock grants nothing by itself", rpGlass, nil, rp, actionGetSecretValue, ImplicitDeny},
		{"a role named like a reader on another path is denied", "arn:aws:iam::111111111111:role/shop-dev-web", []*Document{everything}, rp, actionGetSecretValue, ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(PolicySet{Identity: tt.identity, Resource: tt.resource}, Request{
				Principal: session(tt.principal), Action: tt.action, Resource: secret,
				Context: map[string][]string{"aws:PrincipalArn": {tt.principal}},
			})
			if res.Decision != tt.want {
				t.Errorf("%s %s: %s, want %s", tt.principal, tt.action, res.Decision, tt.want)
			}
		})
	}
	// Without aws:PrincipalArn (a service principal calling on its own
	// behalf) the Deny applies: the lock fails closed.
	res := Evaluate(PolicySet{Identity: []*Document{everything}, Resource: rp}, Request{Principal: "lambda.amazonaws.com", Action: actionGetSecretValue, Resource: secret})
	if res.Decision != ExplicitDeny {
		t.Errorf("a request without aws:PrincipalArn: %s, want %s", res.Decision, ExplicitDeny)
	}
}
