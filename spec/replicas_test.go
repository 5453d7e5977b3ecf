package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReplicasEvaluated(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": `
project = "shop"
variable "west_key" {
  type    = string
  default = "arn:aws:kms:us-west-2:000000000000:key/west"
}
stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
  replicas = {
    "us-west-2" = { kms_key_arn = var.west_key }
    "eu-west-1" = {}
  }
}
role "web" {}
role "west" {
  regions = ["us-west-2"]
}
role "home" {
  regions = ["us-east-1", "eu-west-1"]
}
secret "db" {
  readers     = [role.web, role.west, role.home]
  value       = "xxxxxxxx"
  kms_key_arn = "arn:aws:kms:us-east-1:000000000000:key/home"
}
secret "local" {
  readers  = [role.web, role.home]
  value    = "xxxxxxxx"
  replicas = {}
}
secret "own" {
  readers  = [role.west]
  value    = "xxxxxxxx"
  replicas = { "us-west-2" = null }
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
	want := map[string][]Replica{
		"dev/db":    {{Region: "eu-west-1"}, {Region: "us-west-2", KMSKeyARN: "arn:aws:kms:us-west-2:000000000000:key/west"}},
		"dev/local": nil,
		"dev/own":   {{Region: "us-west-2"}},
	}
	roles := map[string]*Role{}
	for _, r := range d.Roles {
		roles[r.Key] = r
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-east-1"}, roles["home"].Regions); diff != "" {
		t.Errorf("home regions (-want +got):\n%s", diff)
	}
	if roles["web"].Regions != nil {
		t.Errorf("web regions = %v, want nil (everywhere)", roles["web"].Regions)
	}
	for _, s := range d.Secrets {
		if diff := cmp.Diff(want[s.Name], s.Replicas); diff != "" {
			t.Errorf("%s: replicas (-want +got):\n%s", s.Name, diff)
		}
	}
	db := d.Secrets[0]
	if db.Name != "dev/db" {
		t.Fatalf("first secret %s", db.Name)
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-east-1", "us-west-2"}, db.Regions(d.Region)); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	reads := map[string][]Replica{
		"web":  {{Region: "us-east-1", KMSKeyARN: "arn:aws:kms:us-east-1:000000000000:key/home"}, {Region: "eu-west-1"}, {Region: "us-west-2", KMSKeyARN: "arn:aws:kms:us-west-2:000000000000:key/west"}},
		"west": {{Region: "us-west-2", KMSKeyARN: "arn:aws:kms:us-west-2:000000000000:key/west"}},
		"home": {{Region: "us-east-1", KMSKeyARN: "arn:aws:kms:us-east-1:000000000000:key/home"}, {Region: "eu-west-1"}},
	}
	for k, w := range reads {
		if diff := cmp.Diff(w, db.ReaderRegions(d.Region, roles[k])); diff != "" {
			t.Errorf("role %s reads (-want +got):\n%s", k, diff)
		}
	}
}
