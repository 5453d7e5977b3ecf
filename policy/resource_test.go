package policy

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

const (
	rpReader   = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
	rpOther    = "arn:aws:iam::111111111111:role/admin-everything"
	rpDeployer = "arn:aws:iam::111111111111:role/deployer"
	rpGlass    = "arn:aws:iam::111111111111:role/break-glass"
	rpForeign  = "arn:aws:iam::222222222222:role/reporting"
)

func TestResourcePolicyGolden(t *testing.T) {
	tests := []struct {
		name                   string
		readers, admins, cross []string
	}{
		{"one_reader", []string{rpReader}, []string{rpDeployer}, nil},
		{"break_glass", []string{rpReader, rpOther + "-x", rpReader}, []string{rpGlass, rpDeployer}, nil},
		{"no_readers", nil, []string{rpDeployer}, nil},
		{"cross_account", []string{rpReader}, []string{rpDeployer}, []string{rpForeign, "arn:aws:iam::333333333333:role/audit", rpForeign}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ResourcePolicy(tt.readers, tt.admins, tt.cross...)
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
			r, a, x := slices.Clone(tt.readers), slices.Clone(tt.admins), slices.Clone(tt.cross)
			slices.Reverse(r)
			slices.Reverse(a)
			slices.Reverse(x)
			if !bytes.Equal(ResourcePolicy(r, a, x...).Canonical(), d.Canonical()) {
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
	crossRP := ResourcePolicy([]string{rpReader}, []string{rpDeployer, rpGlass}, rpForeign)
	readPolicy := ReadPolicy("us-east-1", []Grant{{SecretARN: secret}})
	everything := &Document{Version: "2012-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"secretsmanager:*"}, Resource: StringList{"*"}}}}
	session := func(role string) string {
		account, name, ok := strings.Cut(strings.TrimPrefix(role, "arn:aws:iam::"), ":role/")
		if !ok {
			return role // an account root calls as itself
		}
		return "arn:aws:sts::" + account + ":assumed-role/" + name + "/s"
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
		// The cross-account reader has no identity policy in this account:
		// the resource policy's Allow is what this account contributes.
		{"cross-account reader reads by the resource policy", rpForeign, nil, crossRP, actionGetSecretValue, Allowed},
		{"cross-account reader without the Allow is denied", rpForeign, nil, rp, actionGetSecretValue, ExplicitDeny},
		{"cross-account reader cannot lift the lock", rpForeign, nil, crossRP, "secretsmanager:DeleteResourcePolicy", ExplicitDeny},
		{"cross-account reader is not allowed to describe", rpForeign, nil, crossRP, actionDescribeSecret, ImplicitDeny},
		{"another role of the reader's account is denied", "arn:aws:iam::222222222222:role/other", []*Document{everything}, crossRP, actionGetSecretValue, ExplicitDeny},
		{"the reader's account root is denied", "arn:aws:iam::222222222222:root", nil, crossRP, actionGetSecretValue, ExplicitDeny},
		{"same-account reader still reads beside a cross-account one", rpReader, []*Document{readPolicy}, crossRP, actionGetSecretValue, Allowed},
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
