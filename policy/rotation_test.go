package policy

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

func TestRotationPolicyGolden(t *testing.T) {
	tests := []struct {
		name   string
		grants []Grant
	}{
		{"rotate_plain", []Grant{{SecretARN: secretARN("dev/app/db/credentials-AbCdEf")}}},
		{"rotate_kms_pending", []Grant{
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf"), KMSKeyARN: keyA},
			{SecretARN: secretARN("dev/app/api-key-??????"), KMSKeyARN: keyA, Describe: true},
			{SecretARN: secretARN("dev/app/stripe-key-GhIjKl")},
			{SecretARN: secretARN("dev/app/stripe-key-GhIjKl")}, // duplicates collapse
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := RotationPolicy("us-east-1", tt.grants)
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), d.Canonical())
			if again, err := Parse(d.Canonical()); err != nil {
				t.Errorf("synthesized policy does not parse: %v", err)
			} else if diff := cmp.Diff(d, again); diff != "" {
				t.Errorf("synthesized policy is not canonical (-want +got):\n%s", diff)
			}
			rev := slices.Clone(tt.grants)
			slices.Reverse(rev)
			if !bytes.Equal(RotationPolicy("us-east-1", rev).Canonical(), d.Canonical()) {
				t.Error("RotationPolicy depends on the order of grants")
			}
		})
	}
	if d := RotationPolicy("us-east-1", nil); d != nil {
		t.Errorf("RotationPolicy(nil) = %s, want nil", d.Canonical())
	}
}

// TestRotationPolicyGrantsExactly checks the rotation policy with the
// evaluator: the protocol's calls on the rotated secrets, nothing on
// others, no secret administration, KMS only through Secrets Manager for
// that key's secrets; and that it merges with a read policy without a
// Sid clash.
func TestRotationPolicyGrantsExactly(t *testing.T) {
	a, other := secretARN("dev/a-AbCdEf"), secretARN("dev/b-GhIjKl")
	d := RotationPolicy("us-east-1", []Grant{{SecretARN: a, KMSKeyARN: keyA}})
	set := PolicySet{Identity: []*Document{d}}
	via := []string{"secretsmanager.us-east-1.amazonaws.com"}
	ctx := func(secret string, viaService []string) map[string][]string {
		m := map[string][]string{"kms:EncryptionContext:SecretARN": {secret}}
		if viaService != nil {
			m["kms:ViaService"] = viaService
		}
		return m
	}
	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"describe", Request{Action: actionDescribeSecret, Resource: a}, Allowed},
		{"get", Request{Action: actionGetSecretValue, Resource: a}, Allowed},
		{"put", Request{Action: "secretsmanager:PutSecretValue", Resource: a}, Allowed},
		{"move stage", Request{Action: "secretsmanager:UpdateSecretVersionStage", Resource: a}, Allowed},
		{"random password", Request{Action: actionGetRandomPassword, Resource: "*"}, Allowed},
		{"get other", Request{Action: actionGetSecretValue, Resource: other}, ImplicitDeny},
		{"put other", Request{Action: "secretsmanager:PutSecretValue", Resource: other}, ImplicitDeny},
		{"rotate", Request{Action: "secretsmanager:RotateSecret", Resource: a}, ImplicitDeny},
		{"cancel rotation", Request{Action: "secretsmanager:CancelRotateSecret", Resource: a}, ImplicitDeny},
		{"update", Request{Action: "secretsmanager:UpdateSecret", Resource: a}, ImplicitDeny},
		{"delete", Request{Action: "secretsmanager:DeleteSecret", Resource: a}, ImplicitDeny},
		{"resource policy", Request{Action: "secretsmanager:PutResourcePolicy", Resource: a}, ImplicitDeny},
		{"decrypt via secrets manager", Request{Action: actionKMSDecrypt, Resource: keyA, Context: ctx(a, via)}, Allowed},
		{"data key via secrets manager", Request{Action: "kms:GenerateDataKey", Resource: keyA, Context: ctx(a, via)}, Allowed},
		{"data key directly", Request{Action: "kms:GenerateDataKey", Resource: keyA, Context: ctx(a, nil)}, ImplicitDeny},
		{"data key for another secret", Request{Action: "kms:GenerateDataKey", Resource: keyA, Context: ctx(other, via)}, ImplicitDeny},
		{"encrypt", Request{Action: "kms:Encrypt", Resource: keyA, Context: ctx(a, via)}, ImplicitDeny},
		{"decrypt with another key", Request{Action: actionKMSDecrypt, Resource: keyB, Context: ctx(a, via)}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(set, tt.req).Decision; got != tt.want {
				t.Errorf("Evaluate() = %s, want %s", got, tt.want)
			}
		})
	}

	read := ReadPolicy("us-east-1", []Grant{{SecretARN: other, KMSKeyARN: keyA}})
	sids := map[string]bool{}
	for _, doc := range []*Document{read, d} {
		for _, s := range doc.Statement {
			if sids[s.Sid] {
				t.Errorf("read and rotation policies both use Sid %s", s.Sid)
			}
			sids[s.Sid] = true
		}
	}
}
