package policy

import (
	"path/filepath"
	"testing"

	"github.com/secretboot/secretboot/internal/golden"
)

// TestKeyPolicyReaders: one statement per cross-account role, decrypting
// only through Secrets Manager for its own secrets; the evaluator allows
// the role's Decrypt for its secret and refuses it for another secret or
// outside Secrets Manager.
func TestKeyPolicyReaders(t *testing.T) {
	const audit = "arn:aws:iam::333333333333:role/audit"
	db, feed := secretARN("dev/app/db-AbCdEf"), secretARN("dev/jobs/feed-GhIjKl")
	d := KeyPolicyReaders("us-east-1", map[string][]string{rpForeign: {feed, db, db}, audit: {db}})
	golden.Check(t, filepath.Join("testdata", "resource", "key_policy_readers.golden"), d.Canonical())
	if KeyPolicyReaders("us-east-1", nil) != nil {
		t.Error("no readers, want no document")
	}
	key := "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-aaaa-4c2e-9a0e-000000000001"
	tests := []struct {
		name, principal, secret, via string
		want                         Decision
	}{
		{"audit decrypts db", audit, db, "secretsmanager.us-east-1.amazonaws.com", Allowed},
		{"audit does not decrypt feed", audit, feed, "secretsmanager.us-east-1.amazonaws.com", ImplicitDeny},
		{"reporting decrypts feed", rpForeign, feed, "secretsmanager.us-east-1.amazonaws.com", Allowed},
		{"not outside Secrets Manager", rpForeign, feed, "s3.us-east-1.amazonaws.com", ImplicitDeny},
		{"not in another region", rpForeign, feed, "secretsmanager.eu-west-1.amazonaws.com", ImplicitDeny},
		{"not another role", "arn:aws:iam::333333333333:role/other", db, "secretsmanager.us-east-1.amazonaws.com", ImplicitDeny},
	}
	for _, tt := range tests {
		res := Evaluate(PolicySet{Resource: d}, Request{Principal: tt.principal, Action: "kms:Decrypt", Resource: key,
			Context: map[string][]string{"kms:ViaService": {tt.via}, "kms:EncryptionContext:SecretARN": {tt.secret}}})
		if res.Decision != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, res.Decision, tt.want)
		}
	}
}
