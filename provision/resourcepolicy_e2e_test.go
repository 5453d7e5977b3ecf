package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/review"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

const (
	rpDeployer   = "arn:aws:iam::" + sandboxAccount + ":role/ci/deployer"
	rpBreakGlass = "arn:aws:iam::" + sandboxAccount + ":role/break-glass"
)

// resourcePolicySpec is a stage whose secrets carry resource policies:
// web reads db, batch reads feed; dbLocked turns db's policy on or off.
func resourcePolicySpec(dbLocked bool) *spec.Desired {
	d := &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: sandboxAccount,
		NamePrefix: "dev/", RolePrefix: "shop-dev-", SpecHash: fmt.Sprint("locked ", dbLocked),
		DeployerARN: rpDeployer, BreakGlass: []string{rpBreakGlass},
		Roles: []*spec.Role{
			{Key: "batch", Name: "shop-dev-batch", Services: []string{"lambda.amazonaws.com"}},
			{Key: "web", Name: "shop-dev-web", Services: []string{"ec2.amazonaws.com"}},
		},
	}
	str := func(key, reader string, locked bool) *spec.Secret {
		return &spec.Secret{Key: key, Name: "dev/" + key, RecoveryWindowDays: 7, Readers: []spec.Reader{{Role: reader}}, ResourcePolicy: locked,
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary + "-" + key)}}
	}
	d.Secrets = []*spec.Secret{str("app/db", "web", dbLocked), str("jobs/feed", "batch", true)}
	return d
}

// TestResourcePolicyLifecycle is the proof of the second lock on an
// enforcing sandbox: as the deployer (DeployerPolicy only), apply puts a
// resource policy on every opted-in secret, after which a role that
// another identity policy grants secretsmanager:* on * cannot read them
// while their readers and the break-glass role can; the next plan is
// clean and reads one resource policy per opted-in secret; a policy
// changed or deleted outside secretboot is planned and restored; a secret
// that opts out loses its policy; and the deployer destroys the stage.
func TestResourcePolicyLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	locked, unlocked := resourcePolicySpec(true), resourcePolicySpec(false)
	installBoundary(t, admin, locked)
	doc, err := provision.DeployerPolicy(locked)
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := provision.DeployerPolicy(unlocked); string(other.Canonical()) != string(doc.Canonical()) {
		t.Fatal("the deployer policy depends on which secrets opt in; the lifecycle needs one")
	}
	deployer := (&deployerFixture{env: env, admin: admin}).connect(t, doc)

	everything := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`
	for _, name := range []string{"admin-everything", "break-glass"} {
		if _, err := admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + sandboxAccount + `:root"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("all"), PolicyDocument: aws.String(everything)}); err != nil {
			t.Fatal(err)
		}
	}
	// reads reports, per secret, whether the role reads it.
	reads := func(role string) (map[string]bool, error) {
		arn := "arn:aws:iam::" + sandboxAccount + ":role/" + role
		out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("reader")})
		if err != nil {
			return nil, err
		}
		c := out.Credentials
		sm := secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1", credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)))
		got := map[string]bool{}
		for _, name := range []string{"dev/app/db", "dev/jobs/feed"} {
			_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			switch {
			case err == nil:
				got[name] = true
			case !strings.Contains(err.Error(), "AccessDenied"):
				return nil, err
			}
		}
		return got, nil
	}
	expectReads := func(want map[string]map[string]bool) error {
		for role, w := range want {
			got, err := reads(role)
			if err != nil {
				return fmt.Errorf("reading as %s: %w", role, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				return fmt.Errorf("%s reads %v, want %v", role, got, w)
			}
		}
		return nil
	}
	lockedReads := map[string]map[string]bool{
		"secretboot/shop/dev/shop-dev-web":   {"dev/app/db": true},
		"secretboot/shop/dev/shop-dev-batch": {"dev/jobs/feed": true},
		"admin-everything":                   {},
		"break-glass":                        {"dev/app/db": true, "dev/jobs/feed": true},
	}
	// planKinds plans as the deployer and returns the resource policy
	// changes as "<action> <secret>", after checking that the plan read
	// the resource policy of exactly the opted-in or tagged secrets.
	planKinds := func(d *spec.Desired, reads int) (*provision.Plan, []string, error) {
		before := deployer.CallStats()
		p, err := planOf(ctx, deployer, d, false)
		if err != nil {
			return nil, nil, err
		}
		for _, op := range deployer.CallStats().Since(before).Ops {
			if op.Operation == "GetResourcePolicy" && op.Calls != reads {
				return nil, nil, fmt.Errorf("the plan called GetResourcePolicy %d times, want %d", op.Calls, reads)
			}
		}
		var got []string
		for _, c := range p.Changes {
			if c.Kind == provision.KindResourcePolicy {
				got = append(got, string(c.Action)+" "+c.Name)
			}
		}
		return p, got, nil
	}
	apply := func(p *provision.Plan, d *spec.Desired) error {
		if _, err := provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{PropagationTimeout: 5 * time.Second}); err != nil {
			return err
		}
		return emptyPlan(ctx, deployer, d, false)
	}
	steps := []step{
		{"first apply locks both secrets", func(ctx context.Context) error {
			p, got, err := planKinds(locked, 0)
			if err != nil {
				return err
			}
			if want := "[create dev/app/db create dev/jobs/feed]"; fmt.Sprint(got) != want {
				return fmt.Errorf("resource policy changes %v, want %s", got, want)
			}
			for _, c := range p.Changes {
				if c.Kind == provision.KindResourcePolicy && (c.Resource.Record == nil || c.Resource.Document == "" || len(c.Resource.Admins) != 2) {
					return fmt.Errorf("change %s: %+v", c.ID, c.Resource)
				}
			}
			if err := apply(p, locked); err != nil {
				return err
			}
			// One intent: the plan's document is the reviewer file's and
			// the one on the secret.
			o, err := provision.Observe(ctx, deployer, locked)
			if err != nil {
				return err
			}
			in := provision.Resolve(locked, o)
			files := map[string]string{}
			for _, f := range review.Files(nil, in.Secrets) {
				files[f.Name] = string(f.Doc.Canonical())
			}
			for _, c := range p.Changes {
				if c.Kind != provision.KindResourcePolicy {
					continue
				}
				live, err := admin.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(c.Name)})
				if err != nil {
					return err
				}
				doc, err := policy.Parse([]byte(aws.ToString(live.ResourcePolicy)))
				if err != nil {
					return err
				}
				file := strings.ReplaceAll(strings.TrimPrefix(c.Name, "dev/"), "/", "~") + ".resource.json"
				if string(doc.Canonical()) != c.Resource.Document || files[file] != c.Resource.Document {
					return fmt.Errorf("%s: the document on the secret or in %s is not the plan's", c.Name, file)
				}
			}
			return expectReads(lockedReads)
		}},
		{"verify, online and offline, decides with the resource policies", func(ctx context.Context) error {
			if err := verifyOnline(ctx, deployer, locked); err != nil {
				return err
			}
			// A lock that forgot a reader is missing access, offline too.
			forgot := resourcePolicySpec(true)
			in := provision.Resolve(forgot, nil)
			docs, err := in.Documents()
			if err != nil {
				return err
			}
			_, secrets := verify.Targets(forgot, docs, in.Secrets)
			for i := range secrets {
				if secrets[i].Resource != nil && secrets[i].Name == "dev/app/db" {
					secrets[i].Resource = policy.ResourcePolicy(nil, []string{rpDeployer})
				}
			}
			diffs := verify.NewResult(forgot, verify.Local, verify.Offline(docs, secrets)).Differences
			if len(diffs) != 1 || diffs[0].Kind != verify.Missing || diffs[0].Role != "web" || diffs[0].Secret != "dev/app/db" || diffs[0].Decision != "explicitDeny" {
				return fmt.Errorf("offline verify of a lock without its reader: %v, want web's GetSecretValue on dev/app/db missing, explicitly denied", diffs)
			}
			// Online, IAM's simulator is given that document too.
			o, err := provision.Observe(ctx, deployer, forgot)
			if err != nil {
				return err
			}
			live := provision.Resolve(forgot, o)
			if docs, err = live.Documents(); err != nil {
				return err
			}
			roles, online := verify.Targets(forgot, docs, live.Secrets)
			for i := range online {
				if online[i].Name == "dev/app/db" {
					online[i].Resource = policy.ResourcePolicy(nil, []string{rpDeployer})
				}
			}
			m, err := verify.Online(ctx, deployer.Simulator, roles, online)
			if err != nil {
				return err
			}
			diffs = verify.NewResult(forgot, verify.Simulated, m).Differences
			if len(diffs) != 1 || diffs[0].Kind != verify.Missing || diffs[0].Role != "web" || diffs[0].Secret != "dev/app/db" {
				return fmt.Errorf("online verify of a lock without its reader: %v, want web's GetSecretValue on dev/app/db missing", diffs)
			}
			return nil
		}},
		{"a clean plan reads one resource policy per locked secret", func(ctx context.Context) error {
			_, got, err := planKinds(locked, 2)
			if err == nil && len(got) > 0 {
				err = fmt.Errorf("changes %v", got)
			}
			return err
		}},
		{"online verify proves the live lock, not the spec's", func(ctx context.Context) error {
			// Somebody narrows dev/app/db's lock outside secretboot so that
			// its reader web is locked out: verify must say so before apply
			// restores the stage's document (the next step).
			narrowed := string(policy.ResourcePolicy(nil, []string{rpDeployer}).Canonical())
			if _, err := admin.SecretsManager.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("dev/app/db"), ResourcePolicy: aws.String(narrowed)}); err != nil {
				return err
			}
			err := verifyOnline(ctx, deployer, locked)
			if err == nil || !strings.Contains(err.Error(), "role web may not secretsmanager:GetSecretValue on dev/app/db") {
				return fmt.Errorf("online verify with web locked out of dev/app/db on AWS: %v, want web's access missing", err)
			}
			return nil
		}},
		{"drift is planned and restored", func(ctx context.Context) error {
			loose := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"secretsmanager:DeleteSecret","Resource":"*"}]}`
			if _, err := admin.SecretsManager.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("dev/app/db"), ResourcePolicy: aws.String(loose)}); err != nil {
				return err
			}
			if _, err := admin.SecretsManager.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("dev/jobs/feed")}); err != nil {
				return err
			}
			if err := expectReads(map[string]map[string]bool{"admin-everything": {"dev/app/db": true, "dev/jobs/feed": true}}); err != nil {
				return fmt.Errorf("the drift did not open the secrets: %w", err)
			}
			p, got, err := planKinds(locked, 2)
			if err != nil {
				return err
			}
			if want := "[update dev/app/db create dev/jobs/feed]"; fmt.Sprint(got) != want {
				return fmt.Errorf("resource policy changes %v, want %s", got, want)
			}
			for _, c := range p.Changes {
				if c.ID == "resource_policy:dev/app/db" && !strings.Contains(c.Resource.Live, "secretsmanager:DeleteSecret") {
					return fmt.Errorf("the update does not show the live policy: %q", c.Resource.Live)
				}
			}
			if err := apply(p, locked); err != nil {
				return err
			}
			return expectReads(lockedReads)
		}},
		{"a locked secret dropped and brought back unlocked loses its policy", func(ctx context.Context) error {
			// Dropping a secret schedules its deletion and leaves its
			// policy; brought back without one, it must not keep the
			// readers the old policy allowed.
			dropped := *locked
			dropped.Secrets = locked.Secrets[:1]
			p, err := planOf(ctx, deployer, &dropped, false)
			if err != nil {
				return err
			}
			if err := apply(p, &dropped); err != nil {
				return err
			}
			back := *locked
			feed := *locked.Secrets[1]
			feed.ResourcePolicy = false
			back.Secrets = []*spec.Secret{locked.Secrets[0], &feed}
			p, got, err := planKinds(&back, 1)
			if err != nil {
				return err
			}
			if want := "[delete dev/jobs/feed]"; fmt.Sprint(got) != want {
				return fmt.Errorf("resource policy changes %v, want %s", got, want)
			}
			if err := apply(p, &back); err != nil {
				return err
			}
			if out, err := admin.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("dev/jobs/feed")}); err != nil || out.ResourcePolicy != nil {
				return fmt.Errorf("dev/jobs/feed brought back unlocked keeps a resource policy: %v (%v)", aws.ToString(out.ResourcePolicy), err)
			}
			p, err = planOf(ctx, deployer, locked, false)
			if err != nil {
				return err
			}
			return apply(p, locked)
		}},
		{"a secret that opts out loses its policy", func(ctx context.Context) error {
			p, got, err := planKinds(unlocked, 2)
			if err != nil {
				return err
			}
			if want := "[delete dev/app/db]"; fmt.Sprint(got) != want {
				return fmt.Errorf("resource policy changes %v, want %s", got, want)
			}
			if err := apply(p, unlocked); err != nil {
				return err
			}
			if _, _, err := planKinds(unlocked, 1); err != nil {
				return err
			}
			return expectReads(map[string]map[string]bool{"admin-everything": {"dev/app/db": true}})
		}},
		{"the deployer destroys the stage", func(ctx context.Context) error {
			return converge1(ctx, deployer, unlocked, true)
		}},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			t.Fatalf("step %q: %v", s.name, err)
		}
	}
}

// TestResourcePolicyValidatedFirst: apply validates every resource policy
// (ValidateResourcePolicy) before its first write, so a deployer that may
// not validate changes nothing at all.
func TestResourcePolicyValidatedFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	d := resourcePolicySpec(true)
	installBoundary(t, admin, d)
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	deployer := (&deployerFixture{env: env, admin: admin}).connect(t, without(doc, provision.SidDeployerValidatePolicy, "", ""))
	p, err := planOf(ctx, deployer, d, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{})
	var denied *provision.AccessDeniedError
	if !errors.As(err, &denied) || !strings.Contains(err.Error(), "validating the resource policy") {
		t.Fatalf("apply without ValidateResourcePolicy: %v, want an AccessDeniedError while validating", err)
	}
	for _, op := range deployer.CallStats().Ops {
		if op.Service != "STS" && !strings.HasPrefix(op.Operation, "List") && !strings.HasPrefix(op.Operation, "Get") && op.Operation != "ValidateResourcePolicy" {
			t.Errorf("apply called %s before validating", op.Operation)
		}
	}
}

// TestResourcePolicyNamesLiveRoleARNs: aws:PrincipalArn carries a role's
// path, so a resource policy names an external reader by its live ARN
// even when the spec's ARN leaves the path out (offline, the spec's is all
// there is).
func TestResourcePolicyNamesLiveRoleARNs(t *testing.T) {
	const specARN, liveARN = "arn:aws:iam::" + sandboxAccount + ":role/tf-analytics", "arn:aws:iam::" + sandboxAccount + ":role/tf/tf-analytics"
	d := resourcePolicySpec(true)
	d.Roles = append(d.Roles, &spec.Role{Key: "analytics", Name: "tf-analytics", External: specARN})
	d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "analytics"})
	o := &provision.Observed{Account: sandboxAccount, Region: "us-east-1",
		External: map[string]*provision.ObservedRole{"analytics": {Name: "tf-analytics", ARN: liveARN}}}
	for _, tt := range []struct {
		name string
		o    *provision.Observed
		want string
	}{{"offline", nil, specARN}, {"observed", o, liveARN}} {
		doc := provision.Resolve(d, tt.o).Secrets[0].Resource
		exempt := doc.Statement[0].Condition["ArnNotEquals"]["aws:PrincipalArn"]
		if !slices.Contains(exempt, tt.want) {
			t.Errorf("%s: the policy exempts %v, want %s among them", tt.name, exempt, tt.want)
		}
	}
}

// TestResourcePolicyExemptsTheRotator: a locked secret's rotator reads it
// in the rotation protocol, so the lock exempts the rotator's role as it
// does the readers'; a role that is neither stays locked out.
func TestResourcePolicyExemptsTheRotator(t *testing.T) {
	d := resourcePolicySpec(true)
	d.Roles = append(d.Roles, &spec.Role{Key: "rotator", Name: "shop-dev-rotator", Services: []string{"lambda.amazonaws.com"}})
	d.Secrets[0].Rotation = &spec.Rotation{Rotator: "rotator", LambdaARN: "arn:aws:lambda:us-east-1:" + sandboxAccount + ":function:rotate", AutomaticallyAfterDays: 30}
	exempt := func(i int) []string {
		return provision.Resolve(d, nil).Secrets[i].Resource.Statement[0].Condition["ArnNotEquals"]["aws:PrincipalArn"]
	}
	rotator := "arn:aws:iam::" + sandboxAccount + ":role" + provision.RolePath(d) + "shop-dev-rotator"
	if got := exempt(0); !slices.Contains(got, rotator) {
		t.Errorf("the rotated secret's lock exempts %v, want the rotator %s among them", got, rotator)
	}
	if got := exempt(1); slices.Contains(got, rotator) {
		t.Errorf("another secret's lock exempts the rotator: %v", got)
	}
}

// TestResourcePolicyCallerLockedOut: a plan that puts resource policies
// as a caller that is neither the deployer nor break-glass (usually a
// deployer_arn that is not the deployer's) is an error, since its first
// put would lock the caller out; a review plan, which writes nothing, only
// notes it, and a plan that puts no policy says nothing.
func TestResourcePolicyCallerLockedOut(t *testing.T) {
	const admin = "arn:aws:iam::" + sandboxAccount + ":user/admin"
	tests := []struct {
		name, caller string
		locked       bool
		opts         provision.DiffOptions
		wantErr      bool
		wantWarning  bool
	}{
		{"the deployer's session", "arn:aws:sts::" + sandboxAccount + ":assumed-role/deployer/ci", true, provision.DiffOptions{}, false, false},
		{"break-glass", rpBreakGlass, true, provision.DiffOptions{}, false, false},
		{"another principal", admin, true, provision.DiffOptions{}, true, false},
		{"a session of another role", "arn:aws:sts::" + sandboxAccount + ":assumed-role/admin/me", true, provision.DiffOptions{}, true, false},
		{"another principal, review plan", admin, true, provision.DiffOptions{NoPayloads: true}, false, true},
		{"another principal, no lock", admin, false, provision.DiffOptions{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := resourcePolicySpec(true)
			if !tt.locked {
				for _, s := range d.Secrets {
					s.ResourcePolicy = false
				}
			}
			p, err := provision.Diff(d, &provision.Observed{Account: sandboxAccount, Region: "us-east-1", CallerARN: tt.caller}, tt.opts)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.caller) || !strings.Contains(err.Error(), "lock it out") {
					t.Fatalf("plan = %v, want an error naming the caller", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(p.Header.Warnings, func(w string) bool { return strings.Contains(w, "lock it out") })
			if warned != tt.wantWarning {
				t.Errorf("warnings %q, want the lock-out note: %v", p.Header.Warnings, tt.wantWarning)
			}
		})
	}
}

// TestDeployerPutsOnlyBlockingPolicies: on an enforcing sandbox the
// deployer puts a resource policy only with BlockPublicPolicy, which apply
// always sets, so a stolen deployer credential cannot put one that opens
// an owned secret to every account.
func TestDeployerPutsOnlyBlockingPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true})
	admin := sandboxBackend(env).mustConnect(t)
	d := resourcePolicySpec(true)
	deployer := stageDeployer(t, env, admin, d)
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	const name = "dev/app/db"
	live, err := deployer.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		block   *bool
		allowed bool
	}{{"unset", nil, false}, {"false", aws.Bool(false), false}, {"true", aws.Bool(true), true}} {
		_, err := deployer.SecretsManager.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(name), ResourcePolicy: live.ResourcePolicy, BlockPublicPolicy: tt.block})
		if denied := err != nil && strings.Contains(err.Error(), "AccessDenied"); denied == tt.allowed || err != nil && !denied {
			t.Errorf("PutResourcePolicy with BlockPublicPolicy %s: %v, want allowed %v", tt.name, err, tt.allowed)
		}
	}
}
