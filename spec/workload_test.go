package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/policy"
)

// TestWorkloadRoles evaluates the three workload blocks per stage: values
// come from variables, the GitHub provider from the stage's account, and
// Trust hands policy exactly the subjects the blocks name.
func TestWorkloadRoles(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": `
project = "shop"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
  vars       = { cluster = "dev", oidc = "oidc.eks.us-east-1.amazonaws.com/id/DEV" }
}

stage "prod" {
  region     = "eu-west-1"
  account_id = "111111111111"
  vars       = { cluster = "prod", oidc = "oidc.eks.eu-west-1.amazonaws.com/id/PROD" }
}

variable "cluster" { type = string }
variable "oidc" { type = string }

role "api" {
  pod_identity {
    cluster_arn     = "arn:aws:eks:us-east-1:000000000000:cluster/${var.cluster}"
    namespace       = "shop"
    service_account = "api"
  }
}

role "worker" {
  description = "queue worker"
  irsa {
    provider_arn    = "arn:aws:iam::000000000000:oidc-provider/${var.oidc}"
    namespace       = "shop"
    service_account = "worker"
  }
}

role "deploy" {
  github_actions {
    repository  = "octo-org/shop"
    environment = var.stage
  }
  github_actions {
    repository = "octo-org/shop"
    ref        = "refs/tags/v*"
  }
}

role "web" {}

secret "app/db" {
  readers = [role.api, role.worker, role.deploy, role.web]
  value   = "xxxxxxxx"
}
`})
	c, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d, diags := c.Evaluate("dev", EvalOptions{})
	if diags.HasErrors() || len(diags) > 0 {
		t.Fatalf("want no diagnostics, got %v", summaries(diags))
	}
	roles := map[string]*Role{}
	for _, r := range d.Roles {
		roles[r.Key] = r
	}
	const gh = "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"
	eks := "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/DEV"
	tests := []struct {
		role     string
		services []string
		profile  bool
		want     policy.Trust
	}{
		{"api", nil, false, policy.Trust{PodIdentity: []policy.PodIdentity{{ClusterARN: "arn:aws:eks:us-east-1:000000000000:cluster/dev", Namespace: "shop", ServiceAccount: "api"}}}},
		{"worker", nil, false, policy.Trust{WebIdentity: []policy.WebIdentity{{ProviderARN: eks, Subject: "system:serviceaccount:shop:worker", Audience: "sts.amazonaws.com"}}}},
		{"deploy", nil, false, policy.Trust{WebIdentity: []policy.WebIdentity{
			{ProviderARN: gh, Subject: "repo:octo-org/shop:environment:dev", Audience: "sts.amazonaws.com"},
			{ProviderARN: gh, Subject: "repo:octo-org/shop:ref:refs/tags/v*", Audience: "sts.amazonaws.com"},
		}}},
		{"web", []string{"ec2.amazonaws.com"}, true, policy.Trust{Services: []string{"ec2.amazonaws.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			r := roles[tt.role]
			if diff := cmp.Diff(tt.services, r.Services); diff != "" {
				t.Errorf("Services (-want +got):\n%s", diff)
			}
			if r.InstanceProfile != tt.profile {
				t.Errorf("InstanceProfile = %v, want %v", r.InstanceProfile, tt.profile)
			}
			if diff := cmp.Diff(tt.want, r.Trust(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Trust() (-want +got):\n%s", diff)
			}
			if _, err := policy.TrustPolicyFor(r.Trust()); err != nil {
				t.Errorf("TrustPolicyFor: %v", err)
			}
		})
	}

	// prod's provider and cluster are in another account than prod's:
	// both are refused there, with their locations.
	_, diags = c.Evaluate("prod", EvalOptions{})
	want := []string{"error: Cluster in another account", "error: OIDC provider in another account"}
	if diff := cmp.Diff(want, summaries(diags)); diff != "" {
		t.Errorf("prod diagnostics (-want +got):\n%s", diff)
	}
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Start.Line == 0 {
			t.Errorf("%s: no location", d.Summary)
		}
	}
}

// TestRoleTrustDefault: a role built by hand with neither services nor
// workloads trusts EC2, as a role block without service does.
func TestRoleTrustDefault(t *testing.T) {
	got := (&Role{Key: "web", DeclRange: hcl.Range{}}).Trust()
	if diff := cmp.Diff(policy.Trust{Services: []string{"ec2.amazonaws.com"}}, got); diff != "" {
		t.Errorf("Trust() (-want +got):\n%s", diff)
	}
}
