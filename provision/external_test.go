package provision_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// TestExternalRoleRecords follows an external role through its life: the
// stage key records it when it gets the read policy, a stage applied
// before records existed gets it recorded, removing the role from the
// spec deletes its policy and record, and destroy deletes the policy of a
// recorded role even when the spec no longer names it.
func TestExternalRoleRecords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		s := b.mustConnect(t)
		stage := uniqueStage("external")
		roleName := "tf-" + stage + "-reporting"
		out, err := s.IAM.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(roleName), Path: aws.String("/tf/"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		roleARN := aws.ToString(out.Role.Arn)
		withRole := func() *spec.Desired {
			d := testDesired(stage, b.account, canary)
			d.Roles = append(d.Roles, &spec.Role{Key: "reporting", Name: "shop-" + stage + "-reporting", External: roleARN})
			d.Secrets[1].Readers = append(d.Secrets[1].Readers, spec.Reader{Role: "reporting"})
			d.SpecHash = "with-reporting"
			return d
		}
		without := testDesired(stage, b.account, canary)
		policyName := "secretboot-shop-" + stage + "-read"
		policyID := "role_policy:" + roleName + "/" + policyName
		tagKey := provision.TagExternalPrefix + roleName
		keyName := stage + "/.secretboot/stage-key"

		hasPolicy := func() bool {
			t.Helper()
			_, err := s.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(policyName)})
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity" {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			return true
		}
		record := func() string {
			t.Helper()
			out, err := s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(keyName)})
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range out.Tags {
				if aws.ToString(tag.Key) == tagKey {
					return aws.ToString(tag.Value)
				}
			}
			return ""
		}
		check := func(step string, wantPolicy bool, wantRecord string) {
			t.Helper()
			if got := hasPolicy(); got != wantPolicy {
				t.Errorf("%s: external role holds the policy: %v, want %v", step, got, wantPolicy)
			}
			if got := record(); got != wantRecord {
				t.Errorf("%s: record on the stage key %q, want %q", step, got, wantRecord)
			}
		}

		// The first apply records the role along with its policy.
		p := converge(t, s, withRole(), provision.DiffOptions{})
		if c := change(t, p, policyID); c.Action != provision.ActionCreate || c.Policy.Record == nil || c.Policy.Record.New != roleARN {
			t.Errorf("first apply: policy change %+v, want a create that records %s", c.Policy, roleARN)
		}
		check("first apply", true, roleARN)

		// A stage applied before records existed: the next apply records
		// the role and leaves its policy alone.
		if _, err := s.SecretsManager.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(keyName), TagKeys: []string{tagKey}}); err != nil {
			t.Fatal(err)
		}
		p = converge(t, s, withRole(), provision.DiffOptions{})
		want := []string{"update " + policyID}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("unrecorded role plan (-want +got):\n%s", diff)
		}
		if c := change(t, p, policyID); c.Policy.Document != "" || len(c.Policy.Grants) != 0 {
			t.Errorf("recording the role changes its policy: %+v", c.Policy)
		}
		check("recorded", true, roleARN)

		// Removed from the spec: the plan narrows the role's access, apply
		// deletes the policy and then the record.
		p = plan(t, s, without, provision.DiffOptions{})
		if diff := cmp.Diff([]string{"delete " + policyID}, summary(p)); diff != "" {
			t.Errorf("removed role plan (-want +got):\n%s", diff)
		}
		c := change(t, p, policyID)
		if c.Policy.Record == nil || !c.Policy.Record.Removed || p.Summary.Broadening != 0 || len(c.Policy.Grants) == 0 {
			t.Errorf("removed role: policy change %+v, want grants removed and the record forgotten", c.Policy)
		}
		for _, g := range c.Policy.Grants {
			if g.Op != "remove" {
				t.Errorf("removed role: grant %+v is not a removal", g)
			}
		}
		apply(t, s, p, without)
		check("removed", false, "")
		if p := plan(t, s, without, provision.DiffOptions{}); !p.Empty() {
			t.Errorf("plan after removal is not empty:\n%s", textOf(t, p))
		}

		// Destroy finds the policy of a recorded role the spec no longer
		// names.
		converge(t, s, withRole(), provision.DiffOptions{})
		check("re-added", true, roleARN)
		p = plan(t, s, without, provision.DiffOptions{Destroy: true})
		if c := change(t, p, policyID); c.Action != provision.ActionDelete {
			t.Errorf("destroy: policy change %s, want delete", c.Action)
		}
		apply(t, s, p, without)
		if hasPolicy() {
			t.Error("destroy left the policy on the external role")
		}
		if p := plan(t, s, without, provision.DiffOptions{Destroy: true}); !p.Empty() {
			t.Errorf("destroy is not complete:\n%s", textOf(t, p))
		}
	})
}

func change(t *testing.T, p *provision.Plan, id string) provision.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("the plan has no change %s:\n%s", id, textOf(t, p))
	return provision.Change{}
}
