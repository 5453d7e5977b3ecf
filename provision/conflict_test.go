package provision_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// laggingSecrets is a Secrets Manager whose ListSecrets has not caught up
// with some secrets yet.
type laggingSecrets struct {
	provision.SecretsManagerAPI
	hidden map[string]bool
}

func (l laggingSecrets) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	out, err := l.SecretsManagerAPI.ListSecrets(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	var kept []smtypes.SecretListEntry
	for _, e := range out.SecretList {
		if !l.hidden[*e.Name] {
			kept = append(kept, e)
		}
	}
	out.SecretList = kept
	return out, nil
}

// applyCalls counts an apply's calls per operation.
func applyCalls(res *provision.ApplyResult) map[string]int {
	m := map[string]int{}
	for _, op := range res.Summary.Ops {
		m[op.Operation] = op.Calls
	}
	return m
}

// TestCreateSecretThatListSecretsMissed plans while ListSecrets does not
// show two existing secrets: apply's CreateSecret finds them, sees they are
// the stage's, and continues from their state. The one whose current
// version already is the declaration's is left alone (its generated
// password kept); the one whose payload changed in the spec gets exactly
// one write.
func TestCreateSecretThatListSecretsMissed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("lagsec")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		before := secretValue(t, s, stage+"/app/db")

		d.Secrets[1].Payload.Declared = spec.SealString(canary + "-v2")
		d.SpecHash = "spec-2"
		real := s.SecretsManager
		s.SecretsManager = laggingSecrets{real, map[string]bool{stage + "/app/db": true, stage + "/app/stripe": true}}
		p := plan(t, s, d, provision.DiffOptions{})
		want := []string{
			"create secret:" + stage + "/app/db [new]",
			"create secret:" + stage + "/app/stripe [new]",
			"update role_policy:shop-" + stage + "-web/secretboot-read",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Fatalf("lagging plan (-want +got):\n%s", diff)
		}
		res := apply(t, s, p, d)
		got := applyCalls(res)
		if got["CreateSecret"] != 2 || got["DescribeSecret"] != 2 || got["PutSecretValue"] != 1 {
			t.Errorf("apply calls %v, want 2 CreateSecret, 2 DescribeSecret, 1 PutSecretValue", got)
		}

		s.SecretsManager = real
		if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
			t.Fatalf("not converged:\n%s", textOf(t, p))
		}
		if after := secretValue(t, s, stage+"/app/db"); after != before {
			t.Error("the db secret was rewritten (its generated password must be kept)")
		}
		if secretValue(t, s, stage+"/app/stripe") != canary+"-v2" {
			t.Error("the stripe secret did not get its new payload")
		}
	})
}

// TestCreateSecretOfSomebodyElse: a secret that appears between plan and
// apply without the stage's tags, or with them but without a version
// secretboot wrote, is not touched.
func TestCreateSecretOfSomebodyElse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		for _, forged := range []bool{false, true} {
			createdBySomebodyElse(t, b, forged)
		}
	})
}

func createdBySomebodyElse(t *testing.T, b *backend, forged bool) {
	t.Helper()
	ctx := context.Background()
	s := b.mustConnect(t)
	stage := uniqueStage("lagforeign")
	d := testDesired(stage, b.account, canary)
	name := stage + "/app/stripe"
	in := &secretsmanager.CreateSecretInput{Name: &name, SecretString: ptr("theirs")}
	if forged {
		// The stage exists (its key too); somebody copies its tags.
		converge(t, s, &spec.Desired{Project: d.Project, Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, NamePrefix: d.NamePrefix, RolePrefix: d.RolePrefix, SpecHash: "empty"}, provision.DiffOptions{})
		in.Tags = []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String(d.Project)}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}}
	}
	if _, err := s.SecretsManager.CreateSecret(ctx, in); err != nil {
		t.Fatal(err)
	}
	s.SecretsManager = laggingSecrets{s.SecretsManager, map[string]bool{name: true}}
	p := plan(t, s, d, provision.DiffOptions{})
	res, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10e9})
	if err == nil || len(res.Failed) != 1 || res.Failed[0].ID != "secret:"+name {
		t.Fatalf("want the stripe secret to fail, got %v", err)
	}
	noCanary(t, "apply error", err.Error())
	if secretValue(t, s, name) != "theirs" {
		t.Errorf("forged=%v: a secret that is not the stage's was written", forged)
	}
	if forged && !strings.Contains(err.Error(), "no version of it was written by secretboot") {
		t.Errorf("the refusal does not say why: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// laggingIAM is an IAM whose listings have not caught up with a role and
// its instance profile, and whose GetRole and account-wide read do not see
// the role until somebody tries to create it.
type laggingIAM struct {
	provision.IAMAPI
	role   string
	hiding *atomic.Bool
}

func noSuchEntity() error {
	return &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "not found", Fault: smithy.FaultClient}
}

func (l laggingIAM) ListRoles(ctx context.Context, in *iam.ListRolesInput, opts ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	out, err := l.IAMAPI.ListRoles(ctx, in, opts...)
	if err == nil {
		for i, r := range out.Roles {
			if *r.RoleName == l.role {
				out.Roles = append(out.Roles[:i], out.Roles[i+1:]...)
				break
			}
		}
	}
	return out, err
}

func (l laggingIAM) ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, opts ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error) {
	out, err := l.IAMAPI.ListInstanceProfiles(ctx, in, opts...)
	if err == nil {
		for i, p := range out.InstanceProfiles {
			if *p.InstanceProfileName == l.role {
				out.InstanceProfiles = append(out.InstanceProfiles[:i], out.InstanceProfiles[i+1:]...)
				break
			}
		}
	}
	return out, err
}

func (l laggingIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if *in.RoleName == l.role && l.hiding.Load() {
		return nil, noSuchEntity()
	}
	return l.IAMAPI.GetRole(ctx, in, opts...)
}

func (l laggingIAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, opts ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	if *in.InstanceProfileName == l.role && l.hiding.Load() {
		return nil, noSuchEntity()
	}
	return l.IAMAPI.GetInstanceProfile(ctx, in, opts...)
}

func (l laggingIAM) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, opts ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	out, err := l.IAMAPI.GetAccountAuthorizationDetails(ctx, in, opts...)
	if err == nil && l.hiding.Load() {
		for i, r := range out.RoleDetailList {
			if *r.RoleName == l.role {
				out.RoleDetailList = append(out.RoleDetailList[:i], out.RoleDetailList[i+1:]...)
				break
			}
		}
	}
	return out, err
}

func (l laggingIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, opts ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	l.hiding.Store(false)
	return l.IAMAPI.CreateRole(ctx, in, opts...)
}

// TestCreateRoleAndProfileThatIAMMissed plans while IAM does not show the
// stage's role and instance profile: apply's creates find them under the
// stage's path and count them as made.
func TestCreateRoleAndProfileThatIAMMissed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		for _, accountRead := range []bool{false, true} {
			t.Run(fmt.Sprintf("account_iam_read=%v", accountRead), func(t *testing.T) {
				s := b.mustConnect(t)
				stage := uniqueStage("lagrole")
				d := testDesired(stage, b.account, canary)
				d.AccountIAMRead = accountRead
				converge(t, s, d, provision.DiffOptions{})

				role := "shop-" + stage + "-web"
				real := s.IAM
				hiding := &atomic.Bool{}
				hiding.Store(true)
				s.IAM = laggingIAM{IAMAPI: real, role: role, hiding: hiding}
				p := plan(t, s, d, provision.DiffOptions{})
				want := []string{
					"create role:" + role,
					"create role_policy:" + role + "/secretboot-read",
					"create instance_profile:" + role,
				}
				if diff := cmp.Diff(want, summary(p)); diff != "" {
					t.Fatalf("lagging plan (-want +got):\n%s", diff)
				}
				hiding.Store(true) // apply re-observes
				res := apply(t, s, p, d)
				got := applyCalls(res)
				if got["CreateRole"] != 1 || got["CreateInstanceProfile"] != 1 || got["AddRoleToInstanceProfile"] != 0 {
					t.Errorf("apply calls %v", got)
				}

				s.IAM = real
				if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
					t.Fatalf("not converged:\n%s", textOf(t, p))
				}
			})
		}
	})
}

// TestObserveSeesRoleListRolesMissed: a role and an instance profile under
// the stage's path that ListRoles and ListInstanceProfiles do not show yet
// are found by the account-wide read (or GetRole and GetInstanceProfile)
// and observed as the stage's, not reported as clashes or planned again.
func TestObserveSeesRoleListRolesMissed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		for _, accountRead := range []bool{false, true} {
			t.Run(fmt.Sprintf("account_iam_read=%v", accountRead), func(t *testing.T) {
				s := b.mustConnect(t)
				stage := uniqueStage("lagobs")
				d := testDesired(stage, b.account, canary)
				d.AccountIAMRead = accountRead
				converge(t, s, d, provision.DiffOptions{})
				role := "shop-" + stage + "-web"
				s.IAM = laggingIAM{IAMAPI: s.IAM, role: role, hiding: &atomic.Bool{}}
				p := plan(t, s, d, provision.DiffOptions{})
				if !p.Empty() {
					t.Errorf("plan of a converged stage whose listings lag is not empty:\n%s", textOf(t, p))
				}
			})
		}
	})
}

// TestCreateRoleMeetsUntaggedRole: a role of the spec's name put at the
// stage's path without the stage's tags, which no listing or read showed
// until CreateRole met it (the race the account-wide listing leaves), is
// refused as not secretboot's, and nothing is placed on it.
func TestCreateRoleMeetsUntaggedRole(t *testing.T) {
	t.Parallel()
	b := startBackend(t, "sandbox")
	s := b.mustConnect(t)
	stage := uniqueStage("untagged")
	d := testDesired(stage, b.account, canary)
	role := "shop-" + stage + "-web"
	ctx := context.Background()
	if _, err := s.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), Path: aws.String(provision.RolePath(d)),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	real := s.IAM
	hiding := &atomic.Bool{}
	hiding.Store(true)
	s.IAM = laggingIAM{IAMAPI: real, role: role, hiding: hiding}
	p := plan(t, s, d, provision.DiffOptions{})
	_, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 5e9})
	if err == nil || !strings.Contains(err.Error(), "role "+role+" is at the stage's path but not tagged as part of this stage") {
		t.Fatalf("apply over an untagged role: %v, want a refusal saying it is not the stage's", err)
	}
	pols, err := real.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pols.PolicyNames) != 0 {
		t.Errorf("apply put %v on the untagged role", pols.PolicyNames)
	}
}
