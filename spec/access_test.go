package spec

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResourcePolicySettings: the stage's resource_policy is the default
// of its secrets, which may override it; the deployer is deployer_arn,
// else assume_role_arn; break-glass principals are sorted and deduplicated.
func TestResourcePolicySettings(t *testing.T) {
	const src = `project = "shop"

stage "dev" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::111111111111:role/deployer"
  resource_policy = true
  break_glass     = ["arn:aws:iam::111111111111:role/glass-b", "arn:aws:iam::111111111111:role/glass-a", "arn:aws:iam::111111111111:role/glass-b"]
}

stage "prod" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::111111111111:role/deployer"
  deployer_arn    = "arn:aws:iam::111111111111:role/ci/prod-deployer"
}

stage "test" {
  region = "us-east-1"
}

role "web" {}

secret "inherits" {
  readers = [role.web]
  value   = "xxxxxxxx"
}

secret "on" {
  readers         = [role.web]
  value           = "xxxxxxxx"
  resource_policy = true
}

secret "off" {
  readers         = [role.web]
  value           = "xxxxxxxx"
  resource_policy = false
}
`
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": src}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	tests := []struct {
		stage      string
		deployer   string
		breakGlass []string
		on         string // the secrets that opt in
	}{
		{"dev", "arn:aws:iam::111111111111:role/deployer", []string{"arn:aws:iam::111111111111:role/glass-a", "arn:aws:iam::111111111111:role/glass-b"}, "[dev/inherits dev/on]"},
		{"prod", "arn:aws:iam::111111111111:role/ci/prod-deployer", nil, "[prod/on]"},
		// No deployer, and no secret that would need one.
		{"test", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			d, diags := c.Evaluate(tt.stage, EvalOptions{LookupEnv: envMap(nil)})
			if tt.stage == "test" {
				// "on" opts in without a deployer: a located error.
				if !diags.HasErrors() || diags[0].Summary != "Resource policy without a deployer" {
					t.Fatalf("want the missing deployer error, got %v", diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			var on []string
			for _, s := range d.Secrets {
				if s.ResourcePolicy {
					on = append(on, s.Name)
				}
			}
			if d.DeployerARN != tt.deployer || !cmp.Equal(d.BreakGlass, tt.breakGlass) || fmt.Sprint(on) != tt.on {
				t.Errorf("deployer %q, break glass %v, opted in %v; want %q, %v, %s", d.DeployerARN, d.BreakGlass, on, tt.deployer, tt.breakGlass, tt.on)
			}
		})
	}
}

// TestCrossAccountReaders: an external role is cross-account when its
// account is not the stage's (account_id, else assume_role_arn's); when the
// spec tells no account, nothing is known to be cross-account. A
// cross-account reader of a secret with a customer key and a resource
// policy is valid.
func TestCrossAccountReaders(t *testing.T) {
	const src = `project = "shop"

stage "pinned" {
  region          = "us-east-1"
  account_id      = "111111111111"
  assume_role_arn = "arn:aws:iam::111111111111:role/deployer"
}

stage "assumed" {
  region          = "us-east-1"
  assume_role_arn = "arn:aws:iam::222222222222:role/deployer"
}

stage "unknown" {
  region       = "us-east-1"
  deployer_arn = "arn:aws:iam::111111111111:role/deployer"
}

role "local" {
  external = "arn:aws:iam::111111111111:role/local"
}

role "foreign" {
  external = "arn:aws:iam::222222222222:role/foreign"
}

secret "shared" {
  readers         = [role.local, role.foreign]
  value           = "xxxxxxxx"
  kms_key_arn     = "arn:aws:kms:us-east-1:111111111111:key/0000-1111"
  resource_policy = true
}
`
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": src}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	for stage, want := range map[string]string{"pinned": "[foreign]", "assumed": "[local]", "unknown": "[]"} {
		d, diags := c.Evaluate(stage, EvalOptions{LookupEnv: envMap(nil)})
		if len(diags) > 0 {
			t.Fatalf("%s: %s", stage, renderDiags(c.Files(), diags))
		}
		var cross []string
		for _, r := range d.Roles {
			if r.CrossAccount {
				cross = append(cross, r.Key)
			}
		}
		if got := fmt.Sprint(cross); got != want {
			t.Errorf("%s: cross-account roles %s, want %s", stage, got, want)
		}
	}
}
