package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestSplitNeedsFreeAttachmentSlots: a read policy split into 3 managed
// parts needs 3 of the role's 10 attachment slots. With 8 taken by
// policies attached by hand, plan refuses it naming the role, and apply of
// a plan made before they were attached refuses it too, both before any
// write; with 7 taken, it is applied and the role ends with all 10 slots
// used. That holds for an external role. An owned role's policies attached
// by hand are drift that apply detaches, so its split always has the slots.
func TestSplitNeedsFreeAttachmentSlots(t *testing.T) {
	t.Parallel()
	// 200 secrets make a read policy of about 15,000 characters: 3 parts.
	const n, wantParts = 200, 3
	tests := []struct {
		name string
		// setup makes the role and returns the spec and the role's name.
		setup func(t *testing.T, s *provision.Session, stage string) (*spec.Desired, string)
	}{
		{"external role", func(t *testing.T, s *provision.Session, stage string) (*spec.Desired, string) {
			name := "tf-" + stage + "-reporting"
			out, err := s.IAM.CreateRole(context.Background(), &iam.CreateRoleInput{
				RoleName: aws.String(name), Path: aws.String("/tf/"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
			})
			if err != nil {
				t.Fatal(err)
			}
			d := testDesired(stage, sandboxAccount, canary)
			d.Roles = append(d.Roles, &spec.Role{Key: "reporting", Name: "shop-" + stage + "-reporting", External: aws.ToString(out.Role.Arn)})
			return withReaders(d, "reporting", n), name
		}},
		{"owned role", func(t *testing.T, s *provision.Session, stage string) (*spec.Desired, string) {
			d := testDesired(stage, sandboxAccount, canary)
			converge(t, s, d, provision.DiffOptions{})
			return withReaders(d, "web", n), "shop-" + stage + "-web"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
			b := sandboxBackend(env)
			s := b.mustConnect(t)
			stage := uniqueStage("slots")
			d, role := tc.setup(t, s, stage)
			hand := attachByHand(t, s, role, 8)
			if tc.name == "owned role" {
				p := plan(t, s, d, provision.DiffOptions{})
				var detached []string
				for _, c := range p.Changes {
					if c.Kind == provision.KindRole && c.Name == role {
						detached = c.Role.Detach
					}
				}
				if want := slices.Sorted(slices.Values(hand)); !slices.Equal(detached, want) {
					t.Errorf("plan detaches %v, want the policies attached by hand %v", detached, want)
				}
				if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutManaged || len(pc.Managed) != wantParts {
					t.Fatalf("plan does not split into %d parts:\n%s", wantParts, textOf(t, p))
				}
				apply(t, s, p, d)
				if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
					t.Fatalf("plan after apply is not empty:\n%s", textOf(t, p2))
				}
				if got := attachedCount(t, s, role); got != wantParts {
					t.Errorf("role has %d managed policies attached, want its %d parts", got, wantParts)
				}
				return
			}

			// 8 slots taken: plan refuses the split, and nothing is written.
			before := snapshot(b)
			o, err := provision.Observe(ctx, s, d)
			if err != nil {
				t.Fatal(err)
			}
			_, err = provision.Diff(d, o, provision.DiffOptions{})
			checkSlotsError(t, err, role, 8)
			if m := mutating(before, snapshot(b)); len(m) != 0 {
				t.Errorf("a refused plan made writes: %v", m)
			}
			if got := snapshot(b)["iam.ListAttachedRolePolicies"] - before["iam.ListAttachedRolePolicies"]; got != 1 {
				t.Errorf("observe listed the attachments %d times, want once for the role to split", got)
			}
			// The default slots are too few, so the account's quota is read.
			if got := snapshot(b)["iam.GetAccountSummary"] - before["iam.GetAccountSummary"]; got != 1 {
				t.Errorf("observe read the account summary %d times, want once", got)
			}

			// 7 taken: the split fits the 3 slots left, and the quota is not
			// read.
			detach(t, s, role, hand[7])
			before = snapshot(b)
			p := plan(t, s, d, provision.DiffOptions{})
			if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutManaged || len(pc.Managed) != wantParts {
				t.Fatalf("plan with 3 free slots does not split into %d parts:\n%s", wantParts, textOf(t, p))
			}
			if got := snapshot(b)["iam.GetAccountSummary"] - before["iam.GetAccountSummary"]; got != 0 {
				t.Errorf("a plan within the default slots read the account summary %d times", got)
			}

			// An 8th attached after the plan: apply plans again and
			// refuses before its first write.
			attach(t, s, role, hand[7])
			before = snapshot(b)
			_, err = provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10e9})
			checkSlotsError(t, err, role, 8)
			if m := mutating(before, snapshot(b)); len(m) != 0 {
				t.Errorf("a refused apply made writes: %v", m)
			}

			// Detached again, the same plan applies and fills all 10 slots.
			detach(t, s, role, hand[7])
			apply(t, s, p, d)
			if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
				t.Fatalf("plan after apply is not empty:\n%s", textOf(t, p2))
			}
			if got := attachedCount(t, s, role); got != 10 {
				t.Errorf("role has %d managed policies attached, want 7 by hand + %d parts", got, wantParts)
			}
		})
	}
}

// withReaders adds n secrets that role reads to d.
func withReaders(d *spec.Desired, role string, n int) *spec.Desired {
	for i := range n {
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: fmt.Sprintf("b/%03d", i), Name: fmt.Sprintf("%s/b/%03d", d.Stage, i), RecoveryWindowDays: 7,
			Readers: []spec.Reader{{Role: role}},
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")},
		})
	}
	d.SpecHash = fmt.Sprintf("%s-reads-%d", role, n)
	return d
}

// attachByHand attaches k managed policies that are not secretboot's to a
// role, the first an AWS managed one, and returns their ARNs.
func attachByHand(t *testing.T, s *provision.Session, role string, k int) []string {
	t.Helper()
	arns := []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	for i := 1; i < k; i++ {
		out, err := s.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{
			PolicyName: aws.String(fmt.Sprintf("%s-hand-%d", role, i)), Path: aws.String("/hand/"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.Policy.Arn))
	}
	for _, arn := range arns {
		attach(t, s, role, arn)
	}
	return arns
}

func attach(t *testing.T, s *provision.Session, role, arn string) {
	t.Helper()
	if _, err := s.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

func detach(t *testing.T, s *provision.Session, role, arn string) {
	t.Helper()
	if _, err := s.IAM.DetachRolePolicy(context.Background(), &iam.DetachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

func attachedCount(t *testing.T, s *provision.Session, role string) int {
	t.Helper()
	out, err := s.IAM.ListAttachedRolePolicies(context.Background(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.AttachedPolicies)
}

// checkSlotsError wants the refusal of a split for lack of attachment
// slots, saying which role, how many slots others take and what to do.
func checkSlotsError(t *testing.T, err error, role string, foreign int) *provision.SlotsError {
	t.Helper()
	var se *provision.SlotsError
	if !errors.As(err, &se) || se.Foreign != foreign {
		t.Fatalf("want a *provision.SlotsError with %d foreign attachments, got %v", foreign, err)
	}
	noCanary(t, "slots error", err.Error())
	for _, want := range []string{
		"the read policy of role " + role + " cannot fit its quotas",
		fmt.Sprintf("%d other managed policies are attached to the role", foreign),
		"detach some of them, or split the role's secrets across roles",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	return se
}

// readPolicyChangeOf finds the read policy change of one role.
func readPolicyChangeOf(t *testing.T, p *provision.Plan, role string) *provision.PolicyChange {
	t.Helper()
	for _, c := range p.Changes {
		if c.Kind == provision.KindRolePolicy && c.Policy.Role == role {
			return c.Policy
		}
	}
	t.Fatalf("the plan has no read policy change for %s:\n%s", role, textOf(t, p))
	return nil
}

// TestSplitWithinTheAccountQuota: with 8 managed policies attached by hand,
// a read policy split into 3 parts needs 11 attachment slots. In an account
// with IAM's default quota of 10 managed policies per role, plan refuses it
// and says the quota can be raised; where it was raised to 20, the same
// spec splits, apply attaches all 11 and the next plan is empty. Each plan,
// apply's own included, reads the quota with exactly one GetAccountSummary.
// A caller denied GetAccountSummary is counted against the default and
// told so.
func TestSplitWithinTheAccountQuota(t *testing.T) {
	t.Parallel()
	const n, wantParts = 200, 3
	ctx := context.Background()
	setup := func(t *testing.T, opts sandbox.Options) (*sandboxtest.Env, *backend, *spec.Desired, string) {
		t.Helper()
		env := sandboxtest.Start(t, opts)
		b := sandboxBackend(env)
		s := b.mustConnect(t)
		stage := uniqueStage("quota")
		role := "tf-" + stage + "-reporting"
		out, err := s.IAM.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(role), Path: aws.String("/tf/"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		d := testDesired(stage, sandboxAccount, canary)
		d.Roles = append(d.Roles, &spec.Role{Key: "reporting", Name: "shop-" + stage + "-reporting", External: aws.ToString(out.Role.Arn)})
		attachByHand(t, s, role, 8)
		return env, b, withReaders(d, "reporting", n), role
	}
	summaries := func(b *backend, before map[string]int) int {
		return snapshot(b)["iam.GetAccountSummary"] - before["iam.GetAccountSummary"]
	}

	t.Run("default quota", func(t *testing.T) {
		t.Parallel()
		_, b, d, role := setup(t, sandbox.Options{Account: sandboxAccount})
		s := b.mustConnect(t)
		before := snapshot(b)
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provision.Diff(d, o, provision.DiffOptions{})
		se := checkSlotsError(t, err, role, 8)
		if want := "raise the account's quota of managed policies per role from 10 (AWS allows up to 20)"; se.Quota != 10 || se.QuotaDenied || !strings.Contains(err.Error(), want) {
			t.Errorf("refusal at the default quota: quota %d, denied %v, want 10 and %q:\n%v", se.Quota, se.QuotaDenied, want, err)
		}
		if got := summaries(b, before); got != 1 {
			t.Errorf("plan read the account summary %d times, want once", got)
		}
	})

	t.Run("raised quota", func(t *testing.T) {
		t.Parallel()
		_, b, d, role := setup(t, sandbox.Options{Account: sandboxAccount, AttachedPoliciesPerRoleQuota: 20})
		s := b.mustConnect(t)
		before := snapshot(b)
		p := plan(t, s, d, provision.DiffOptions{})
		if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutManaged || len(pc.Managed) != wantParts {
			t.Fatalf("plan with a quota of 20 does not split into %d parts:\n%s", wantParts, textOf(t, p))
		}
		if got := summaries(b, before); got != 1 {
			t.Errorf("plan read the account summary %d times, want once", got)
		}
		before = snapshot(b)
		apply(t, s, p, d)
		if got := summaries(b, before); got != 1 {
			t.Errorf("apply read the account summary %d times, want once", got)
		}
		if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
			t.Fatalf("plan after apply is not empty:\n%s", textOf(t, p2))
		}
		if got := attachedCount(t, s, role); got != 8+wantParts {
			t.Errorf("role has %d managed policies attached, want 8 by hand + %d parts", got, wantParts)
		}
	})

	t.Run("quota not readable", func(t *testing.T) {
		t.Parallel()
		env, b, d, role := setup(t, sandbox.Options{Account: sandboxAccount, AttachedPoliciesPerRoleQuota: 20, EnforceAuth: true})
		s := connectAs(t, env, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"iam:GetAccountSummary","Resource":"*"}]}`)
		before := snapshot(b)
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatalf("observe with GetAccountSummary denied: %v", err)
		}
		_, err = provision.Diff(d, o, provision.DiffOptions{})
		se := checkSlotsError(t, err, role, 8)
		if want := "(iam:GetAccountSummary was denied), so secretboot counted IAM's default of 10"; se.Quota != 10 || !se.QuotaDenied || !strings.Contains(err.Error(), want) {
			t.Errorf("refusal without the quota: quota %d, denied %v, want 10, true and %q:\n%v", se.Quota, se.QuotaDenied, want, err)
		}
		if got := summaries(b, before); got != 1 {
			t.Errorf("plan tried the account summary %d times, want once", got)
		}
	})
}

// connectAs opens a session as a new role holding the identity policy doc,
// in a sandbox that enforces authorization.
func connectAs(t *testing.T, env *sandboxtest.Env, doc string) *provision.Session {
	t.Helper()
	ctx := context.Background()
	iamc := iam.NewFromConfig(env.Config)
	name := uniqueStage("deployer")
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("deploy"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "test", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: env.URL,
		Credentials:   provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		AssumeRoleARN: "arn:aws:iam::" + sandboxAccount + ":role/" + name,
		MaxAttempts:   1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
