package provision

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/policy"
)

func TestNarrowsResource(t *testing.T) {
	const (
		web     = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
		batch   = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-batch"
		admin   = "arn:aws:iam::111111111111:role/ci/deployer"
		partner = "arn:aws:iam::222222222222:role/partner"
		other   = "arn:aws:iam::333333333333:role/other"
	)
	lock := func(readers []string, foreign ...string) string {
		return string(policy.ResourcePolicy(readers, []string{admin}, foreign...).Canonical())
	}
	for _, tc := range []struct {
		name       string
		live, want string
		narrows    bool
	}{
		{"unchanged", lock([]string{web}), lock([]string{web}), false},
		{"a reader added", lock([]string{web}), lock([]string{batch, web}), false},
		{"a reader of another account added", lock([]string{web}), lock([]string{web}, partner), false},
		{"a reader removed", lock([]string{batch, web}), lock([]string{web}), true},
		{"a reader of another account removed", lock([]string{web}, partner), lock([]string{web}), true},
		{"one reader of another account swapped for another", lock([]string{web}, partner), lock([]string{web}, other), true},
		{"a first lock", "", lock([]string{web}), true},
		{"the lock deleted", lock([]string{web}), "", false},
		{"a lock admitting another account deleted", lock([]string{web}, partner), "", true},
		{"a policy written outside secretboot replaced", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`, lock([]string{web}), true},
		{"a policy that does not parse replaced", "{", lock([]string{web}), true},
		{"a lock with a statement added by hand replaced", withStatement(t, lock([]string{web}), other), lock([]string{web}, other), true},
		{"a lock whose Deny of reading was edited by hand replaced", strings.Replace(lock([]string{web}), `"secretsmanager:GetSecretValue"`, `"secretsmanager:DescribeSecret"`, 1), lock([]string{web}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := narrowsResource(&ResourcePolicyChange{Live: tc.live, Document: tc.want}); got != tc.narrows {
				t.Errorf("narrowsResource = %v, want %v", got, tc.narrows)
			}
		})
	}
}

func TestReadRemovals(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/db-AbCdEf"
	grant := func(op, action, resource string) GrantChange {
		return GrantChange{Op: op, Effect: policy.Allow, Action: action, Resource: resource}
	}
	for _, tc := range []struct {
		name    string
		grants  []GrantChange
		removes bool
	}{
		{"the read removed", []GrantChange{grant("remove", "secretsmanager:GetSecretValue", arn)}, true},
		{"the read of a replica removed", []GrantChange{grant("remove", "secretsmanager:GetSecretValue", ReplicaARN(arn, "us-west-2"))}, true},
		{"a wildcard read removed", []GrantChange{grant("remove", "secretsmanager:Get*", "arn:aws:secretsmanager:*:111111111111:secret:dev/*")}, true},
		{"the read added", []GrantChange{grant("add", "secretsmanager:GetSecretValue", arn)}, false},
		{"only DescribeSecret removed", []GrantChange{grant("remove", "secretsmanager:DescribeSecret", arn)}, false},
		{"another secret's read removed", []GrantChange{grant("remove", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/dbx-AbCdEf")}, false},
		{"a NotAction read removed", []GrantChange{grant("remove", `NotAction:["secretsmanager:DeleteSecret"]`, arn)}, true},
		{"a NotResource read removed", []GrantChange{grant("remove", "secretsmanager:GetSecretValue", `NotResource:["arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/*"]`)}, true},
		{"a NotResource DescribeSecret removed", []GrantChange{grant("remove", "secretsmanager:DescribeSecret", `NotResource:["arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/*"]`)}, false},
		{"a Deny removed", []GrantChange{{Op: "remove", Effect: policy.Deny, Action: "secretsmanager:GetSecretValue", Resource: arn}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			removals := indexReadRemovals([]Change{{ID: "role_policy:r/p", Kind: KindRolePolicy, Policy: &PolicyChange{Grants: tc.grants}}}, "us-east-1")
			if got := removals.of(arn); (len(got) > 0) != tc.removes {
				t.Errorf("removals.of = %v, want a removal: %v", got, tc.removes)
			}
		})
	}
}

// withStatement adds to a lock a statement that allows principal every
// action on the secret, as an edit by hand would.
func withStatement(t *testing.T, lock, principal string) string {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(lock), &d); err != nil {
		t.Fatal(err)
	}
	d["Statement"] = append(d["Statement"].([]any), map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": "secretsmanager:*", "Resource": "*",
	})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
