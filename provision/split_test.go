package provision_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// bulkDesired is testDesired plus n secrets that the web role reads: with
// n = 300 its read policy is about 22,000 characters, over the 10,240
// inline limit.
func bulkDesired(stage, account string, n int) *spec.Desired {
	d := testDesired(stage, account, canary)
	for i := range n {
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: fmt.Sprintf("b/%03d", i), Name: fmt.Sprintf("%s/b/%03d", stage, i), RecoveryWindowDays: 7,
			Readers: []spec.Reader{{Role: "web"}},
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")},
		})
	}
	return d
}

// readPolicyChange finds the read policy change of a plan.
func readPolicyChange(t *testing.T, p *provision.Plan) *provision.Change {
	t.Helper()
	for i, c := range p.Changes {
		if c.Kind == provision.KindRolePolicy {
			return &p.Changes[i]
		}
	}
	t.Fatalf("the plan has no read policy change:\n%s", textOf(t, p))
	return nil
}

// managedParts reads the managed parts attached to a role and their
// default documents, in part order.
func managedParts(t *testing.T, s *provision.Session, d *spec.Desired, role string) map[string]*policy.Document {
	t.Helper()
	ctx := context.Background()
	out, err := s.IAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role), PathPrefix: aws.String(provision.RolePath(d))})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]*policy.Document{}
	for _, ap := range out.AttachedPolicies {
		doc := defaultDocument(t, s, aws.ToString(ap.PolicyArn))
		parts[aws.ToString(ap.PolicyName)] = doc
	}
	return parts
}

func defaultDocument(t *testing.T, s *provision.Session, arn string) *policy.Document {
	t.Helper()
	ctx := context.Background()
	p, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.Parse([]byte(decodeDocument(aws.ToString(v.PolicyVersion.Document))))
	if err != nil {
		t.Fatalf("part %s: %v", arn, err)
	}
	return doc
}

// stagePolicies lists the managed policies under the stage's path but
// the stage's permissions boundary, which stays when the roles go.
func stagePolicies(t *testing.T, s *provision.Session, d *spec.Desired) []string {
	t.Helper()
	out, err := s.IAM.ListPolicies(context.Background(), &iam.ListPoliciesInput{PathPrefix: aws.String(provision.RolePath(d)), Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range out.Policies {
		if n := aws.ToString(p.PolicyName); n != provision.BoundaryName(d) {
			names = append(names, n)
		}
	}
	return names
}

func hasInline(t *testing.T, s *provision.Session, role string) bool {
	t.Helper()
	_, err := s.IAM.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(provision.ReadPolicyName)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity" {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestSplitReadPolicy takes a role reading 300 secrets through the life of
// a split read policy: first apply into managed parts (valid, attached, the
// inline policy absent, the grants exactly the whole policy's), a no-change
// plan within the call budget, six updates of one part (the fifth and
// sixth prune the oldest version), back to inline when the role reads
// fewer secrets, split again, and the role's removal.
func TestSplitReadPolicy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		if b.name == "moto" && os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
			t.Skip("about a minute on moto; runs with SECRETBOOT_LONG_TESTS=1, as .ci/run sets it")
		}
		s := b.mustConnect(t)
		stage := uniqueStage("split")
		d := bulkDesired(stage, b.account, 300)
		role := "shop-" + stage + "-web"

		p := plan(t, s, d, provision.DiffOptions{})
		c := readPolicyChange(t, p)
		pc := c.Policy
		if c.Action != provision.ActionCreate || pc.Layout != provision.LayoutManaged || len(pc.Managed) < 2 {
			t.Fatalf("first plan does not split the read policy:\n%s", textOf(t, p))
		}
		var names []string
		for i, m := range pc.Managed {
			names = append(names, m.Name)
			if want := fmt.Sprintf("%s-read-%d", role, i+1); m.Name != want || m.Action != provision.ActionCreate || !m.Attach {
				t.Errorf("part %d = %+v, want %s created and attached", i+1, m, want)
			}
		}
		if want := fmt.Sprintf("split into %d managed policies: %s", len(names), strings.Join(names, ", ")); !strings.Contains(textOf(t, p), want) {
			t.Errorf("plan text lacks %q:\n%s", want, textOf(t, p))
		}
		apply(t, s, p, d)
		if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
			t.Fatalf("plan after the split is not empty:\n%s", textOf(t, p2))
		}

		// The parts are valid managed policies that together grant
		// exactly the whole read policy, and nothing is left inline.
		o, err := provision.Observe(context.Background(), s, d)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := provision.RoleDocumentsOf(d, o)
		if err != nil {
			t.Fatal(err)
		}
		parts := managedParts(t, s, d, role)
		if len(parts) != len(names) {
			t.Fatalf("attached parts %v, want %v", parts, names)
		}
		var union []*policy.Document
		for name, doc := range parts {
			if n := policy.Size(doc); n > policy.DefaultLimits.ManagedMax {
				t.Errorf("part %s has %d characters, over the managed limit", name, n)
			}
			union = append(union, doc)
		}
		if diff := policy.DiffGrants([]*policy.Document{docs[0].Read}, union); len(diff) != 0 {
			t.Errorf("the parts do not grant exactly the read policy: %+v", diff)
		}
		if hasInline(t, s, role) {
			t.Error("the inline read policy is still there")
		}

		// A plan of the split stage read role by role (the stage does not
		// set account_iam_read) stays within the
		// budget: one ListPolicies and one GetPolicyVersion (the stage's
		// boundary) per stage, and for the split role one GetRole (its
		// boundary and tags), one ListAttachedRolePolicies and one
		// GetPolicyVersion per part. (The account-wide read needs none
		// of them: TestAccountReadObservesTheSame.)
		s2 := b.mustConnect(t)
		before := s2.CallStats()
		if p := plan(t, s2, d, provision.DiffOptions{}); !p.Empty() {
			t.Fatalf("plan is not empty:\n%s", textOf(t, p))
		}
		calls := map[string]int{}
		for _, op := range s2.CallStats().Since(before).Ops {
			calls[op.Operation] = op.Calls
		}
		n, r := len(d.Secrets)+1, 1
		// The split role's attachments are read once, for its parts and
		// for policies attached by hand.
		budget := 2 + (n+99)/100 + 3 + 2*r + 1 + len(names) + 1
		total := 1 // GetCallerIdentity, made by Connect
		for _, k := range calls {
			total += k
		}
		if total > budget || calls["ListPolicies"] != 1 || calls["ListAttachedRolePolicies"] != 1 || calls["GetPolicyVersion"] != len(names)+1 {
			t.Errorf("plan made %d calls (budget %d): %v", total, budget, calls)
		}

		// Six updates of one part: toggling DescribeSecret on the last
		// bulk secret changes the last statement only.
		last := d.Secrets[len(d.Secrets)-1]
		for i := range 6 {
			last.Readers = []spec.Reader{{Role: "web", Describe: i%2 == 0}}
			d.SpecHash = fmt.Sprintf("describe-%d", i)
			p := converge(t, s, d, provision.DiffOptions{})
			var updated []string
			for _, m := range readPolicyChange(t, p).Policy.Managed {
				if m.Action != "" || m.Attach {
					updated = append(updated, string(m.Action)+" "+m.Name)
				}
			}
			if diff := cmp.Diff([]string{"update " + names[len(names)-1]}, updated); diff != "" {
				t.Fatalf("update %d (-want +got):\n%s", i+1, diff)
			}
		}
		arn := "arn:aws:iam::" + b.account + ":policy" + provision.RolePath(d) + names[len(names)-1]
		versions, err := s.IAM.ListPolicyVersions(context.Background(), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if len(versions.Versions) != 5 {
			t.Errorf("the updated part has %d versions, want 5 (the limit, oldest pruned)", len(versions.Versions))
		}

		// Fewer readers: back inline, the parts deleted.
		for _, sec := range d.Secrets[2:] {
			sec.Readers = nil
		}
		d.SpecHash = "inline"
		p = converge(t, s, d, provision.DiffOptions{})
		pc = readPolicyChange(t, p).Policy
		if pc.Layout != provision.LayoutInline || len(pc.Managed) != len(names) {
			t.Errorf("shrinking plan:\n%s", textOf(t, p))
		}
		if !hasInline(t, s, role) || len(stagePolicies(t, s, d)) != 0 {
			t.Errorf("after shrinking: inline %v, managed policies %v", hasInline(t, s, role), stagePolicies(t, s, d))
		}

		// Split again, then destroy: nothing is left.
		for _, sec := range d.Secrets[2:] {
			sec.Readers = []spec.Reader{{Role: "web"}}
		}
		d.SpecHash = "split-again"
		converge(t, s, d, provision.DiffOptions{})
		if hasInline(t, s, role) || len(stagePolicies(t, s, d)) != len(names) {
			t.Errorf("after splitting again: inline %v, managed policies %v", hasInline(t, s, role), stagePolicies(t, s, d))
		}
		// A role removed from the spec loses its parts before it is
		// deleted (destroy takes the same path).
		d.Roles = nil
		for _, sec := range d.Secrets {
			sec.Readers = nil
		}
		d.SpecHash = "no-role"
		p = converge(t, s, d, provision.DiffOptions{})
		if c := readPolicyChange(t, p); c.Action != provision.ActionDelete || len(c.Policy.Managed) != len(names) {
			t.Errorf("role removal plan:\n%s", textOf(t, p))
		}
		if left := stagePolicies(t, s, d); len(left) != 0 {
			t.Errorf("removing the role left managed policies %v", left)
		}
	})
}

// decodeDocument undoes the URL encoding IAM applies to documents.
func decodeDocument(s string) string {
	if strings.HasPrefix(s, "{") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}
