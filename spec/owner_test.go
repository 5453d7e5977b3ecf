package spec

import "testing"

func TestValueOwner(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": `
project = "shop"
stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}
role "web" {}
secret "a" {
  readers = [role.web]
  value   = "x"
}
secret "b" {
  readers     = [role.web]
  value       = "x"
  value_owner = "rotation"
}
secret "c" {
  readers     = [role.web]
  value       = "x"
  value_owner = "secretboot"
}
`})
	c, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d, diags := c.Evaluate("dev", EvalOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"dev/a": "", "dev/b": ValueOwnerRotation, "dev/c": ValueOwnerSecretboot}
	for _, s := range d.Secrets {
		if s.ValueOwner != want[s.Name] {
			t.Errorf("%s: value owner %q, want %q", s.Name, s.ValueOwner, want[s.Name])
		}
	}
}
