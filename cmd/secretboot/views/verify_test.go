package views

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

// verifyFixture is a stage with a managed and an external role, after
// someone attached an admin policy to the external one; the secret
// dev/app/new has not been created yet.
func verifyFixture() (*spec.Desired, *verify.Matrix) {
	d := &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "111111111111", NamePrefix: "dev/",
		Roles: []*spec.Role{
			{Key: "reporting", External: "arn:aws:iam::111111111111:role/tf-reporting"},
			{Key: "web", Name: "shop-dev-web"},
			{Key: "worker", Name: "shop-dev-worker"},
		},
		Secrets: []*spec.Secret{
			{Key: "app/db", Name: "dev/app/db", Readers: []spec.Reader{{Role: "web", Describe: true}}},
			{Key: "app/new", Name: "dev/app/new", Readers: []spec.Reader{{Role: "web"}}},
			{Key: "app/stripe", Name: "dev/app/stripe", Readers: []spec.Reader{{Role: "reporting"}, {Role: "web"}}},
		},
	}
	m := &verify.Matrix{
		Roles: []verify.Role{
			{Key: "reporting", Name: "tf-reporting", ARN: "arn:aws:iam::111111111111:role/tf-reporting", External: true, Exists: true},
			{Key: "web", Name: "shop-dev-web", ARN: "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web", Exists: true},
			{Key: "worker", Name: "shop-dev-worker", ARN: "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-worker"},
		},
		Secrets: []verify.Secret{
			{Name: "dev/.secretboot/stage-key", Exists: true},
			{Key: "app/db", Name: "dev/app/db", Exists: true},
			{Key: "app/new", Name: "dev/app/new"},
			{Key: "app/stripe", Name: "dev/app/stripe", Exists: true},
		},
	}
	for _, role := range []string{"reporting", "web"} {
		for _, s := range []string{"dev/.secretboot/stage-key", "dev/app/db", "dev/app/stripe"} {
			for _, a := range verify.Actions {
				c := verify.Cell{Role: role, Secret: s, Action: a, Decision: "implicitDeny"}
				switch {
				case role == "reporting":
					c.Allowed, c.Decision, c.Sources = true, "allowed", []string{"AdministratorAccess"}
				case a == verify.GetSecretValue && s != "dev/.secretboot/stage-key",
					a == verify.DescribeSecret && s == "dev/app/db":
					c.Allowed, c.Decision, c.Sources = true, "allowed", []string{"secretboot-read"}
				}
				m.Cells = append(m.Cells, c)
			}
		}
	}
	return d, m
}

// decryptFixture is verifyFixture with dev/app/db encrypted with a
// customer managed key: web may decrypt it, and so may the external role,
// through its admin policy.
func decryptFixture() (*spec.Desired, *verify.Matrix) {
	const key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	d, m := verifyFixture()
	d.Secrets[0].KMSKeyARN = key
	m.Secrets[1].KMSKeyARN = key
	source := map[string]string{"reporting": "AdministratorAccess", "web": "secretboot-read"}
	var cells []verify.Cell
	for _, c := range m.Cells {
		cells = append(cells, c)
		// Matrices keep kms:Decrypt after a secret's four actions.
		if c.Secret == "dev/app/db" && c.Action == verify.DeleteSecret {
			cells = append(cells, verify.Cell{Role: c.Role, Secret: c.Secret, Action: verify.KMSDecrypt, Allowed: true, Decision: "allowed", Sources: []string{source[c.Role]}})
		}
	}
	m.Cells = cells
	return d, m
}

// unlistedFixture is verifyFixture with a role below the stage's path that
// an administrator gave a read of every secret.
func unlistedFixture() (*spec.Desired, *verify.Matrix) {
	d, m := verifyFixture()
	const key = "/secretboot/shop/dev/deeper/rogue"
	// Matrices are sorted by role key, and "/" sorts first.
	m.Roles = append([]verify.Role{{Key: key, Name: "rogue", ARN: "arn:aws:iam::111111111111:role" + key, Exists: true, Unlisted: true}}, m.Roles...)
	var cells []verify.Cell
	for _, s := range []string{"dev/.secretboot/stage-key", "dev/app/db", "dev/app/stripe"} {
		for _, a := range verify.Actions {
			c := verify.Cell{Role: key, Secret: s, Action: a, Decision: "implicitDeny"}
			if a == verify.GetSecretValue {
				c.Allowed, c.Decision, c.Sources = true, "allowed", []string{"reads"}
			}
			cells = append(cells, c)
		}
	}
	m.Cells = append(cells, m.Cells...)
	return d, m
}

func TestVerify(t *testing.T) {
	d, m := verifyFixture()
	kd, km := decryptFixture()
	ud, um := unlistedFixture()
	ok := verify.Expected(d)
	ok.Roles = append([]verify.Role(nil), m.Roles...)
	for i := range ok.Roles {
		ok.Roles[i].Exists = true
	}
	for i := range ok.Secrets {
		ok.Secrets[i].Exists = true
	}
	tests := []struct {
		name   string
		result *verify.Result
		color  bool
	}{
		{"differences", verify.NewResult(d, verify.Simulated, m), false},
		{"differences.color", verify.NewResult(d, verify.Simulated, m), true},
		{"verified.offline", verify.NewResult(d, verify.Local, ok), false},
		{"decrypt", verify.NewResult(kd, verify.Simulated, km), false},
		{"unlisted", verify.NewResult(ud, verify.Simulated, um), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Verify(&b, tt.result, Colors{On: tt.color}); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "verify", tt.name+".golden"), b.Bytes())
			if tt.color {
				return
			}
			for _, f := range []struct {
				ext    string
				render func(*bytes.Buffer, *verify.Result) error
			}{
				{"md", func(b *bytes.Buffer, r *verify.Result) error { return VerifyMarkdown(b, r) }},
				{"dot", func(b *bytes.Buffer, r *verify.Result) error { return VerifyDOT(b, r) }},
			} {
				var first, second bytes.Buffer
				if err := f.render(&first, tt.result); err != nil {
					t.Fatal(err)
				}
				if err := f.render(&second, tt.result); err != nil {
					t.Fatal(err)
				}
				if first.String() != second.String() {
					t.Fatalf("%s is not deterministic", f.ext)
				}
				if f.ext == "md" {
					checkMarkdown(t, first.String())
				} else {
					checkDOT(t, first.String())
				}
				golden.Check(t, filepath.Join("testdata", "verify", tt.name+"."+f.ext), first.Bytes())
			}
		})
	}
}
