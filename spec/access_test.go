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
	// The engine sees the stage's account only: cross-account roles and
	// their reader entries are set apart.
	tests := []struct{ stage, roles, cross, readers, crossReaders string }{
		{"pinned", "[local]", "[foreign]", "[{local false}]", "[arn:aws:iam::222222222222:role/foreign]"},
		{"assumed", "[foreign]", "[local]", "[{foreign false}]", "[arn:aws:iam::111111111111:role/local]"},
		{"unknown", "[foreign local]", "[]", "[{foreign false} {local false}]", "[]"},
	}
	for _, tt := range tests {
		d, diags := c.Evaluate(tt.stage, EvalOptions{LookupEnv: envMap(nil)})
		if len(diags) > 0 {
			t.Fatalf("%s: %s", tt.stage, renderDiags(c.Files(), diags))
		}
		var roles, cross []string
		for _, r := range d.Roles {
			roles = append(roles, r.Key)
		}
		for _, r := range d.CrossAccountRoles {
			if !r.CrossAccount {
				t.Errorf("%s: role %s set apart but not CrossAccount", tt.stage, r.Key)
			}
			cross = append(cross, r.Key)
		}
		s := d.Secrets[0]
		got := []string{fmt.Sprint(roles), fmt.Sprint(cross), fmt.Sprint(s.Readers), fmt.Sprint(s.CrossAccountReaders)}
		if diff := cmp.Diff([]string{tt.roles, tt.cross, tt.readers, tt.crossReaders}, got); diff != "" {
			t.Errorf("%s: roles, cross-account roles, readers, cross-account readers (-want +got):\n%s", tt.stage, diff)
		}
	}
}

// TestAccountIAMRead: account_iam_read is off unless a stage sets it to
// true; a value that is not a bool is a located error.
func TestAccountIAMRead(t *testing.T) {
	const src = `project = "shop"

stage "off" {
  region = "us-east-1"
}

stage "false" {
  region           = "us-east-1"
  account_iam_read = false
}

stage "on" {
  region           = "us-east-1"
  account_iam_read = true
}

stage "bad" {
  region           = "us-east-1"
  account_iam_read = "yes please"
}

role "web" {}

secret "s" {
  readers = [role.web]
  value   = "xxxxxxxx"
}
`
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": src}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	for _, tt := range []struct {
		stage string
		want  bool
	}{{"off", false}, {"false", false}, {"on", true}} {
		d, diags := c.Evaluate(tt.stage, EvalOptions{LookupEnv: envMap(nil)})
		if diags.HasErrors() {
			t.Fatal(renderDiags(c.Files(), diags))
		}
		if d.AccountIAMRead != tt.want {
			t.Errorf("stage %s: AccountIAMRead %v, want %v", tt.stage, d.AccountIAMRead, tt.want)
		}
	}
	if _, diags := c.Evaluate("bad", EvalOptions{LookupEnv: envMap(nil)}); !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 19 {
		t.Errorf("a string account_iam_read: want an error at line 19, got %v", diags)
	}
}
