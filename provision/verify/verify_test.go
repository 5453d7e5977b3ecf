package verify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

func shop() *spec.Desired {
	return &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "111111111111", NamePrefix: "dev/", RolePrefix: "shop-dev-",
		Roles: []*spec.Role{
			{Key: "reporting", External: "arn:aws:iam::111111111111:role/tf-reporting"},
			{Key: "web", Name: "shop-dev-web", Services: []string{"ec2.amazonaws.com"}},
		},
		Secrets: []*spec.Secret{
			{Key: "app/db", Name: "dev/app/db", Readers: []spec.Reader{{Role: "web", Describe: true}}},
			{Key: "app/stripe", Name: "dev/app/stripe", Readers: []spec.Reader{{Role: "reporting"}, {Role: "web"}}},
		},
	}
}

// allowed lists the allowed cells of a matrix in short form.
func allowed(m *verify.Matrix) []string {
	var out []string
	for _, c := range m.Cells {
		if c.Allowed {
			out = append(out, c.Role+" "+strings.TrimPrefix(c.Action, "secretsmanager:")+" "+c.Secret)
		}
	}
	return out
}

func TestExpected(t *testing.T) {
	m := verify.Expected(shop())
	want := []string{
		"reporting GetSecretValue dev/app/stripe",
		"web GetSecretValue dev/app/db",
		"web DescribeSecret dev/app/db",
		"web GetSecretValue dev/app/stripe",
	}
	if diff := cmp.Diff(want, allowed(m)); diff != "" {
		t.Errorf("allowed cells (-want +got):\n%s", diff)
	}
	// 2 roles × (2 secrets + the stage key) × 4 actions.
	if len(m.Cells) != 24 {
		t.Errorf("got %d cells, want 24", len(m.Cells))
	}
	if _, ok := m.Lookup("web", "dev/.secretboot/stage-key", verify.GetSecretValue); !ok {
		t.Error("the stage key is not in the expected matrix")
	}
}

func TestOfflineMatchesExpected(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    *spec.Desired
	}{
		{"shop", shop()},
		{"webapp", load(t, "../../examples/webapp", "dev")},
		{"multistage prod", load(t, "../../examples/multistage", "prod")},
		{"replicated", replicatedShop()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := provision.RoleDocumentsOf(tt.d, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, secrets := verify.Targets(tt.d, docs, provision.SecretRefs(tt.d, nil))
			got := verify.Offline(docs, secrets)
			if diffs := verify.Compare(verify.Expected(tt.d), got); len(diffs) != 0 {
				t.Errorf("offline differs from the spec: %v", diffs)
			}
		})
	}
}

// replicatedShop is shop with dev/app/db replicated to us-west-2 (with a
// customer key) and eu-west-1, and a reader limited to us-west-2.
func replicatedShop() *spec.Desired {
	d := shop()
	d.Roles = append(d.Roles, &spec.Role{Key: "west", Name: "shop-dev-west", Services: []string{"ec2.amazonaws.com"}, Regions: []string{"us-west-2"}})
	db := d.Secrets[0]
	db.Replicas = []spec.Replica{{Region: "eu-west-1"}, {Region: "us-west-2", KMSKeyARN: "arn:aws:kms:us-west-2:111111111111:key/west"}}
	db.Readers = append(db.Readers, spec.Reader{Role: "west"})
	return d
}

// TestExpectedReplicas: a reader reads every replica by default; a reader
// limited to a region reads the replica there and nothing else.
func TestExpectedReplicas(t *testing.T) {
	want := []string{
		"web GetSecretValue dev/app/db",
		"web DescribeSecret dev/app/db",
		"web GetSecretValue dev/app/db@eu-west-1",
		"web DescribeSecret dev/app/db@eu-west-1",
		"web GetSecretValue dev/app/db@us-west-2",
		"web DescribeSecret dev/app/db@us-west-2",
		"web kms:Decrypt dev/app/db@us-west-2",
		"web GetSecretValue dev/app/stripe",
		"west GetSecretValue dev/app/db@us-west-2",
		"west kms:Decrypt dev/app/db@us-west-2",
	}
	var got []string
	for _, c := range allowed(verify.Expected(replicatedShop())) {
		if !strings.HasPrefix(c, "reporting ") {
			got = append(got, c)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allowed cells (-want +got):\n%s", diff)
	}
}

func TestCompare(t *testing.T) {
	cell := func(role, secret, action string, ok bool, sources ...string) verify.Cell {
		c := verify.Cell{Role: role, Secret: secret, Action: action, Allowed: ok, Decision: "implicitDeny", Sources: sources}
		if ok {
			c.Decision = "allowed"
		}
		return c
	}
	expected := &verify.Matrix{
		Roles:   []verify.Role{{Key: "web", Exists: true}},
		Secrets: []verify.Secret{{Name: "dev/a", Exists: true}},
		Cells: []verify.Cell{
			cell("web", "dev/a", verify.GetSecretValue, true),
			cell("web", "dev/a", verify.DescribeSecret, false),
			cell("web", "dev/a", verify.PutSecretValue, false),
			cell("web", "dev/a", verify.DeleteSecret, false),
		},
	}
	tests := []struct {
		name   string
		actual *verify.Matrix
		want   []string
	}{
		{
			name:   "equal",
			actual: expected,
		},
		{
			name: "extra and missing",
			actual: &verify.Matrix{Roles: expected.Roles, Secrets: expected.Secrets, Cells: []verify.Cell{
				{Role: "web", Secret: "dev/a", Action: verify.GetSecretValue, Decision: "explicitDeny", Sources: []string{"deny-all"}},
				cell("web", "dev/a", verify.DescribeSecret, false),
				cell("web", "dev/a", verify.PutSecretValue, true, "AdministratorAccess"),
				cell("web", "dev/a", verify.DeleteSecret, false),
				cell("web", "dev/other", verify.GetSecretValue, true, "AdministratorAccess"),
			}},
			want: []string{
				"missing access: role web may not secretsmanager:GetSecretValue on dev/a, which the spec grants (explicitly denied by deny-all)",
				"extra access: role web may secretsmanager:PutSecretValue on dev/a, which the spec does not grant (allowed by AdministratorAccess)",
				"extra access: role web may secretsmanager:GetSecretValue on dev/other, which the spec does not grant (allowed by AdministratorAccess)",
			},
		},
		{
			name:   "role not created",
			actual: &verify.Matrix{Roles: []verify.Role{{Key: "web"}}, Secrets: expected.Secrets},
			want:   []string{"not verified: role web does not exist yet (run apply)"},
		},
		{
			name:   "external role missing",
			actual: &verify.Matrix{Roles: []verify.Role{{Key: "web", External: true, ARN: "arn:aws:iam::1:role/x"}}, Secrets: expected.Secrets},
			want:   []string{"not verified: external role web (arn:aws:iam::1:role/x) does not exist or cannot be read"},
		},
		{
			name:   "secret not created",
			actual: &verify.Matrix{Roles: expected.Roles, Secrets: []verify.Secret{{Name: "dev/a"}}},
			want:   []string{"not verified: secret dev/a does not exist yet (run apply)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range verify.Compare(expected, tt.actual) {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

// pagedSimulator answers one evaluation result per page, to exercise the
// paginator, and records what it was asked.
type pagedSimulator struct {
	calls []string
	fail  error
}

func (p *pagedSimulator) SimulatePrincipalPolicy(_ context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if p.fail != nil {
		return nil, p.fail
	}
	p.calls = append(p.calls, aws.ToString(in.PolicySourceArn)+" marker="+aws.ToString(in.Marker))
	i := 0
	if in.Marker != nil {
		i = int(aws.ToString(in.Marker)[0] - '0')
	}
	n := len(in.ActionNames) * len(in.ResourceArns)
	action, resource := in.ActionNames[i/len(in.ResourceArns)], in.ResourceArns[i%len(in.ResourceArns)]
	decision := iamtypes.PolicyEvaluationDecisionTypeImplicitDeny
	if action == verify.GetSecretValue {
		decision = iamtypes.PolicyEvaluationDecisionTypeAllowed
	}
	out := &iam.SimulatePrincipalPolicyOutput{EvaluationResults: []iamtypes.EvaluationResult{{
		EvalActionName: aws.String(action), EvalResourceName: aws.String(resource), EvalDecision: decision,
		MatchedStatements: []iamtypes.Statement{{SourcePolicyId: aws.String("secretboot-read")}, {SourcePolicyId: aws.String("secretboot-read")}},
	}}}
	if i+1 < n {
		out.IsTruncated = true
		out.Marker = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func TestOnlinePaginates(t *testing.T) {
	sim := &pagedSimulator{}
	roles := []verify.Role{{Key: "web", ARN: "arn:aws:iam::1:role/web", Exists: true}, {Key: "gone", ARN: "arn:aws:iam::1:role/gone"}}
	secrets := []verify.Secret{{Name: "dev/a", ARN: "arn:a", Exists: true}, {Name: "dev/b", ARN: "arn:b"}}
	m, err := verify.Online(context.Background(), sim, roles, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.calls) != 4 {
		t.Errorf("got %d calls, want one role × 4 pages: %v", len(sim.calls), sim.calls)
	}
	if diff := cmp.Diff([]string{"web GetSecretValue dev/a"}, allowed(m)); diff != "" {
		t.Errorf("allowed (-want +got):\n%s", diff)
	}
	c, _ := m.Lookup("web", "dev/a", verify.GetSecretValue)
	if diff := cmp.Diff([]string{"secretboot-read"}, c.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	_, err = verify.Online(context.Background(), &pagedSimulator{fail: errors.New("throttled")}, roles, secrets)
	if err == nil || !strings.Contains(err.Error(), "role web") {
		t.Errorf("error = %v, want one naming the role", err)
	}
}

// aggregatingSimulator answers as IAM does today: one result per action,
// the most restrictive decision on top (here for the resource "*"), and the
// decision per resource in ResourceSpecificResults.
type aggregatingSimulator struct{}

func (aggregatingSimulator) SimulatePrincipalPolicy(_ context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	out := &iam.SimulatePrincipalPolicyOutput{}
	for _, action := range in.ActionNames {
		e := iamtypes.EvaluationResult{EvalActionName: aws.String(action), EvalResourceName: aws.String("*"), EvalDecision: iamtypes.PolicyEvaluationDecisionTypeImplicitDeny}
		for _, arn := range in.ResourceArns {
			rs := iamtypes.ResourceSpecificResult{EvalResourceName: aws.String(arn), EvalResourceDecision: iamtypes.PolicyEvaluationDecisionTypeImplicitDeny}
			if action == verify.GetSecretValue && arn == "arn:a" {
				rs.EvalResourceDecision = iamtypes.PolicyEvaluationDecisionTypeAllowed
				rs.MatchedStatements = []iamtypes.Statement{{SourcePolicyId: aws.String("secretboot-read")}}
			}
			e.ResourceSpecificResults = append(e.ResourceSpecificResults, rs)
		}
		out.EvaluationResults = append(out.EvaluationResults, e)
	}
	return out, nil
}

func TestOnlineReadsResourceSpecificResults(t *testing.T) {
	roles := []verify.Role{{Key: "web", ARN: "arn:aws:iam::1:role/web", Exists: true}}
	secrets := []verify.Secret{{Name: "dev/a", ARN: "arn:a", Exists: true}, {Name: "dev/b", ARN: "arn:b", Exists: true}}
	m, err := verify.Online(context.Background(), aggregatingSimulator{}, roles, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cells) != 8 {
		t.Errorf("got %d cells, want 2 secrets × 4 actions", len(m.Cells))
	}
	if diff := cmp.Diff([]string{"web GetSecretValue dev/a"}, allowed(m)); diff != "" {
		t.Errorf("allowed (-want +got):\n%s", diff)
	}
}

// load evaluates one stage of an example spec.
func load(t *testing.T, dir, stage string) *spec.Desired {
	t.Helper()
	cfg, diags := spec.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("loading %s: %v", dir, diags)
	}
	d, diags := cfg.Evaluate(stage, spec.EvalOptions{LookupEnv: func(k string) (string, bool) {
		if k == "STRIPE_KEY" {
			return "sk_test_verify", true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatalf("evaluating %s/%s: %v", dir, stage, diags)
	}
	return d
}

// applied starts a sandbox in the stage's account, creates the external
// roles the spec names (they are owned elsewhere), applies the stage with
// the engine and returns the sandbox, the engine's session and an IAM
// client.
func applied(t *testing.T, d *spec.Desired) (*sandboxtest.Env, *provision.Session, *iam.Client) {
	t.Helper()
	ctx := context.Background()
	// The sandbox encrypts through KMS: the keys the spec names must exist.
	var keys []string
	for _, s := range d.Secrets {
		if s.KMSKeyARN != "" && !slices.Contains(keys, s.KMSKeyARN) {
			keys = append(keys, s.KMSKeyARN)
		}
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: d.AccountID, Region: d.Region, KMSKeys: keys})
	client := iam.NewFromConfig(env.Config)
	for _, r := range d.Roles {
		if r.Managed() {
			continue
		}
		name := r.External[strings.LastIndexByte(r.External, '/')+1:]
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(name),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.Diff(d, o, provision.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	return env, s, client
}

// online verifies the stage through IAM and offline, and returns both
// results.
func online(t *testing.T, s *provision.Session, sim verify.Simulator, d *spec.Desired) (on, off *verify.Matrix) {
	t.Helper()
	docs, roles, secrets := targets(t, s, d)
	on, err := verify.Online(context.Background(), sim, roles, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return on, verify.Offline(docs, secrets)
}

// targets observes the stage and returns its documents and what to verify.
func targets(t *testing.T, s *provision.Session, d *spec.Desired) ([]provision.RoleDocuments, []verify.Role, []verify.Secret) {
	t.Helper()
	o, err := provision.Observe(context.Background(), s, d)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := provision.RoleDocumentsOf(d, o)
	if err != nil {
		t.Fatal(err)
	}
	roles, secrets := verify.Targets(d, docs, provision.SecretRefs(d, o))
	return docs, roles, secrets
}

func TestSandbox(t *testing.T) {
	for _, tt := range []struct {
		name  string
		stage func(t *testing.T) *spec.Desired
		role  string // the role that gets an admin policy
	}{
		{"webapp", func(t *testing.T) *spec.Desired { return load(t, "../../examples/webapp", "dev") }, "web"},
		{"multistage external role", func(t *testing.T) *spec.Desired { return load(t, "../../examples/multistage", "dev") }, "reporting"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.stage(t)
			env, s, client := applied(t, d)

			env.Server.ResetStats()
			on, off := online(t, s, client, d)
			// No customer managed key: one simulation per role, as before
			// kms:Decrypt was checked.
			if got := env.Server.Stats().Calls["iam.SimulatePrincipalPolicy"]; got != len(d.Roles) {
				t.Errorf("got %d simulations, want one per role (%d)", got, len(d.Roles))
			}
			if diffs := verify.Compare(verify.Expected(d), on); len(diffs) != 0 {
				t.Fatalf("verify after apply found differences: %v", diffs)
			}
			if diffs := verify.Compare(off, on); len(diffs) != 0 {
				t.Errorf("offline and online matrices disagree: %v", diffs)
			}
			if diff := cmp.Diff(allowed(off), allowed(on)); diff != "" {
				t.Errorf("allowed cells, offline vs online (-offline +online):\n%s", diff)
			}
			if r := verify.NewResult(d, verify.Simulated, on); !r.OK {
				t.Errorf("result not OK: %v", r.Differences)
			}

			// Someone attaches an admin policy to the role outside secretboot.
			ctx := context.Background()
			pol, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{
				PolicyName:     aws.String("AdministratorAccess"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
			})
			if err != nil {
				t.Fatal(err)
			}
			var role verify.Role
			for _, r := range on.Roles {
				if r.Key == tt.role {
					role = r
				}
			}
			if _, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
				RoleName: aws.String(role.Name), PolicyArn: pol.Policy.Arn,
			}); err != nil {
				t.Fatal(err)
			}
			on, _ = online(t, s, client, d)
			r := verify.NewResult(d, verify.Simulated, on)
			if r.OK {
				t.Fatal("verify passed with an admin policy attached")
			}
			expected := verify.Expected(d)
			var extra int
			for _, diff := range r.Differences {
				if diff.Kind != verify.Extra || diff.Role != tt.role {
					t.Errorf("unexpected difference: %s", diff)
					continue
				}
				if diff.Sources[len(diff.Sources)-1] != "AdministratorAccess" && diff.Sources[0] != "AdministratorAccess" {
					t.Errorf("difference does not name the admin policy: %s", diff)
				}
				extra++
			}
			// Every cell of the role that the spec does not grant is extra,
			// except on a managed role, whose stage boundary allows reading
			// and describing the stage's secrets, writing those the stage
			// owns (as a rotator does), and nothing else.
			bounded := !external(d, tt.role)
			var want int
			for _, c := range expected.Cells {
				if c.Role == tt.role && !c.Allowed && (!bounded || c.Action == "secretsmanager:GetSecretValue" || c.Action == "secretsmanager:DescribeSecret" || c.Action == "secretsmanager:PutSecretValue") {
					want++
				}
			}
			if extra != want {
				t.Errorf("got %d extra cells, want %d", extra, want)
			}
			if bounded {
				return // the count above holds deletes out
			}
			wantLine := "extra access: role " + tt.role + " may secretsmanager:PutSecretValue on " + d.Secrets[0].Name + ", which the spec does not grant (allowed by AdministratorAccess)"
			var found bool
			for _, diff := range r.Differences {
				found = found || diff.String() == wantLine
			}
			if !found {
				t.Errorf("no difference reads %q", wantLine)
			}
		})
	}
}

// external reports whether the spec's role key is an external role.
func external(d *spec.Desired, key string) bool {
	for _, r := range d.Roles {
		if r.Key == key {
			return !r.Managed()
		}
	}
	return false
}
