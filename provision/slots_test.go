package provision_test

import (
	"context"
	"errors"
	"fmt"
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
// used. The same holds for an external role and for an owned one.
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

			// 7 taken: the split fits the 3 slots left.
			detach(t, s, role, hand[7])
			p := plan(t, s, d, provision.DiffOptions{})
			if pc := readPolicyChangeOf(t, p, role); pc.Layout != provision.LayoutManaged || len(pc.Managed) != wantParts {
				t.Fatalf("plan with 3 free slots does not split into %d parts:\n%s", wantParts, textOf(t, p))
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
func checkSlotsError(t *testing.T, err error, role string, foreign int) {
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
