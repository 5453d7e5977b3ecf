package provision_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// TestDeployerCannotEscalate is the attack suite of issue #11, run on the
// enforcing sandbox for each example: a session holding only the stage's
// deployer policy applies, plans (clean), destroys and applies again, and
// then every privilege-escalation technique that its actions could serve
// is tried and must be denied. A role it may legitimately create with
// "*:*" inline does no more than the stage's boundary allows.
func TestDeployerCannotEscalate(t *testing.T) {
	t.Parallel()
	env := map[string]string{"STRIPE_KEY": "sk_test_not_a_secret"}
	for _, ex := range []struct{ dir, stage string }{
		{"../examples/webapp", "dev"},
		{"../examples/multistage", "prod"},
	} {
		t.Run(ex.dir[len("../examples/"):]+"-"+ex.stage, func(t *testing.T) {
			t.Parallel()
			cfg, diags := spec.Load(ex.dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			d, diags := cfg.Evaluate(ex.stage, spec.EvalOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			escalationSuite(t, d)
		})
	}
}

func escalationSuite(t *testing.T, d *spec.Desired) {
	ctx := context.Background()
	start := time.Now()
	sb := sandboxtest.Start(t, sandbox.Options{Account: d.AccountID, Region: d.Region, EnforceAuth: true, KMSKeys: customerKeys(d)})
	connect := func(roleARN string) *provision.Session {
		t.Helper()
		s, err := provision.Connect(ctx, provision.ConnectOptions{
			Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, Endpoint: sb.URL,
			Credentials:   provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
			AssumeRoleARN: roleARN, MaxAttempts: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	admin := connect("")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	iamARN := "arn:aws:iam::" + d.AccountID + ":"
	trustAccount := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + iamARN + `root"},"Action":"sts:AssumeRole"}]}`)
	for _, r := range d.Roles {
		if !r.Managed() {
			must(admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.Name), AssumeRolePolicyDocument: trustAccount}))
		}
	}
	installBoundary(t, admin, d)
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	must(admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: trustAccount}))
	must(admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("secretboot-deployer"), PolicyDocument: aws.String(string(doc.Compact()))}))
	deployer := connect(iamARN + "role/ci/deployer")

	// The deployer's own work: apply, a clean plan, destroy, apply again.
	for _, step := range []struct {
		name    string
		destroy bool
	}{{"apply", false}, {"destroy", true}, {"apply again", false}} {
		if err := converge1(ctx, deployer, d, step.destroy); err != nil {
			t.Fatalf("%s as the deployer: %v", step.name, err)
		}
	}

	// What others own: a secret under the prefix without ownership tags,
	// one of another project whose stage has the same name (the default
	// name_prefix is "<stage>/" in every project), and a role at the
	// stage's path that an administrator created without the boundary.
	foreign, otherProject := d.NamePrefix+"foreign", d.NamePrefix+"other-project"
	must(admin.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(foreign), SecretString: aws.String(canary + "-foreign")}))
	must(admin.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(otherProject), SecretString: aws.String(canary + "-other"),
		Tags: []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("other")}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}}}))
	path := provision.RolePath(d)
	must(admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admins-own"), Path: aws.String(path), AssumeRolePolicyDocument: trustAccount}))
	var workload, external string
	for _, r := range d.Roles {
		if r.Managed() && workload == "" {
			workload = r.Name
		}
		if !r.Managed() {
			external = r.Name
		}
	}
	boundary := provision.BoundaryARN(d, d.AccountID)
	everything := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	ownerTags := []iamtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String(d.Project)}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}}
	ic := deployer.IAM.(*iam.Client)
	sm := deployer.SecretsManager.(*secretsmanager.Client)
	attacks := []struct {
		name string
		call func() error
	}{
		{"CreateRole without the boundary", func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("evil"), Path: aws.String(path), AssumeRolePolicyDocument: trustAccount, Tags: ownerTags})
			return err
		}},
		{"CreateRole with a boundary of its own", func() error {
			out, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("evil-read-1"), Path: aws.String(path), PolicyDocument: everything})
			if err != nil {
				return err
			}
			_, err = ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("evil2"), Path: aws.String(path), AssumeRolePolicyDocument: trustAccount,
				PermissionsBoundary: out.Policy.Arn, Tags: ownerTags})
			return err
		}},
		{"CreateRole below the stage's path", func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("evil3"), Path: aws.String(path + "deeper/"), AssumeRolePolicyDocument: trustAccount,
				PermissionsBoundary: aws.String(boundary), Tags: ownerTags})
			return err
		}},
		{"CreatePolicy below the stage's path", func() error {
			_, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("evil-read-2"), Path: aws.String(path + "deeper/"), PolicyDocument: everything})
			return err
		}},
		{"AttachRolePolicy AdministratorAccess", func() error {
			_, err := ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(workload), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}},
		{"AttachRolePolicy of its own policy to itself", func() error {
			_, err := ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(iamARN + "policy" + path + "evil-read-1")})
			return err
		}},
		{"AttachRolePolicy to a stage role without the boundary", func() error {
			_, err := ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("admins-own"), PolicyArn: aws.String(iamARN + "policy" + path + "evil-read-1")})
			return err
		}},
		{"PutRolePolicy on a stage role without the boundary", func() error {
			_, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admins-own"), PolicyName: aws.String("evil"), PolicyDocument: everything})
			return err
		}},
		{"PutRolePolicy on itself", func() error {
			_, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("evil"), PolicyDocument: everything})
			return err
		}},
		{"CreatePolicyVersion of the boundary", func() error {
			_, err := ic.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(boundary), PolicyDocument: everything, SetAsDefault: true})
			return err
		}},
		{"SetDefaultPolicyVersion of the boundary", func() error {
			_, err := ic.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(boundary), VersionId: aws.String("v1")})
			return err
		}},
		{"DeletePolicy of the boundary", func() error {
			_, err := ic.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(boundary)})
			return err
		}},
		{"PutRolePermissionsBoundary", func() error {
			_, err := ic.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(workload), PermissionsBoundary: aws.String(iamARN + "policy" + path + "evil-read-1")})
			return err
		}},
		{"DeleteRolePermissionsBoundary", func() error {
			_, err := ic.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(workload)})
			return err
		}},
		{"UpdateAssumeRolePolicy of a role it does not own", func() error {
			_, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("admins-own"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`)})
			return err
		}},
		{"TagRole to claim a role", func() error {
			_, err := ic.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("admins-own"), Tags: ownerTags})
			return err
		}},
		{"AddRoleToInstanceProfile of itself (PassRole)", func() error {
			if _, err := admin.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("spare"), Path: aws.String(path)}); err != nil {
				return err
			}
			_, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("spare"), RoleName: aws.String("deployer")})
			return err
		}},
		{"CreateSecret without the ownership tags", func() error {
			_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(d.NamePrefix + "untagged"), SecretString: aws.String("x")})
			return err
		}},
	}
	for _, id := range []string{foreign, otherProject} {
		attacks = append(attacks, []struct {
			name string
			call func() error
		}{
			{"TagResource claiming " + id, func() error {
				_, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(id), Tags: []smtypes.Tag{
					{Key: aws.String(provision.TagProject), Value: aws.String(d.Project)}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}}})
				return err
			}},
			{"UntagResource of " + id, func() error {
				_, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(id), TagKeys: []string{provision.TagProject}})
				return err
			}},
			{"PutSecretValue on " + id, func() error {
				_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String("x")})
				return err
			}},
			{"UpdateSecret of " + id, func() error {
				_, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(id), Description: aws.String("x")})
				return err
			}},
			{"DeleteSecret of " + id, func() error {
				_, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
				return err
			}},
			{"GetSecretValue of " + id, func() error {
				_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
				return err
			}},
		}...)
	}
	if external != "" {
		attacks = append(attacks, struct {
			name string
			call func() error
		}{"UpdateAssumeRolePolicy of an external role to trust a foreign account", func() error {
			_, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(external),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`)})
			return err
		}})
	}
	for _, a := range attacks {
		if err := a.call(); !isDenied(err) {
			t.Errorf("%s: %v, want AccessDenied", a.name, err)
		}
	}

	// What the deployer may do, a role of the stage with the boundary and
	// "*:*" inline, trusting the account, grants no more than the
	// boundary: proven by assuming it and calling.
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("wide"), Path: aws.String(path), AssumeRolePolicyDocument: trustAccount,
		PermissionsBoundary: aws.String(boundary), Tags: ownerTags}); err != nil {
		t.Fatalf("CreateRole with the boundary: %v", err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("wide"), PolicyName: aws.String("everything"), PolicyDocument: everything}); err != nil {
		t.Fatalf("PutRolePolicy on a bounded role: %v", err)
	}
	wide := connect(iamARN + "role" + path + "wide")
	wsm, wic := wide.SecretsManager.(*secretsmanager.Client), wide.IAM.(*iam.Client)
	stageSecret := d.Secrets[0].Name
	if _, err := wsm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stageSecret)}); err != nil {
		t.Errorf("the bounded role reading %s, which the boundary allows: %v", stageSecret, err)
	}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"PutSecretValue on a stage secret", func() error {
			_, err := wsm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(stageSecret), SecretString: aws.String("x")})
			return err
		}},
		{"ListSecrets", func() error {
			_, err := wsm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
			return err
		}},
		{"CreateSecret", func() error {
			_, err := wsm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("anywhere/x"), SecretString: aws.String("x")})
			return err
		}},
		{"ListRoles", func() error {
			_, err := wic.ListRoles(ctx, &iam.ListRolesInput{})
			return err
		}},
		{"PutRolePolicy on the deployer", func() error {
			_, err := wic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("evil"), PolicyDocument: everything})
			return err
		}},
		{"DeleteRolePermissionsBoundary of itself", func() error {
			_, err := wic.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("wide")})
			return err
		}},
	} {
		if err := c.call(); !isDenied(err) {
			t.Errorf("the bounded role with *:* inline, %s: %v, want AccessDenied", c.name, err)
		}
	}
	// The import grant, attached for an import, claims an unowned secret
	// under the prefix and nothing else: not another project's, and not
	// with other tag values.
	imp, err := provision.ImportPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	must(admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("secretboot-import"), PolicyDocument: aws.String(string(imp.Compact()))}))
	claim := func(id, project string) error {
		_, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(id), Tags: []smtypes.Tag{
			{Key: aws.String(provision.TagProject), Value: aws.String(project)}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}}})
		return err
	}
	if err := claim(otherProject, d.Project); !isDenied(err) {
		t.Errorf("with the import grant, claiming another project's secret: %v, want AccessDenied", err)
	}
	if err := claim(foreign, "other"); !isDenied(err) {
		t.Errorf("with the import grant, tagging an unowned secret for another project: %v, want AccessDenied", err)
	}
	if _, err := provision.Import(ctx, deployer, withSecret(d, foreign), []string{"foreign"}); err != nil {
		t.Errorf("import of an unowned secret with the import grant: %v", err)
	}
	// The other project's secret stays as it was; the imported one is ours.
	for _, id := range []string{foreign, otherProject} {
		out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		tags := map[string]string{}
		for _, tg := range out.Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		want := map[string]string{provision.TagProject: "other", provision.TagStage: d.Stage}
		if id == foreign {
			// Imported: the stage's tags and its owner mark, whose value
			// is an HMAC under the stage key.
			want[provision.TagProject] = d.Project
			if tags[provision.TagMark] == "" {
				t.Errorf("%s: imported without the owner mark", id)
			}
			want[provision.TagMark] = tags[provision.TagMark]
		}
		if out.DeletedDate != nil || !maps.Equal(tags, want) {
			t.Errorf("%s: deleted %v, tags %v, want tags %v", id, out.DeletedDate, tags, want)
		}
	}
	t.Logf("%s/%s: apply, destroy, apply again and %d attacks denied as the deployer (%d calls), in %v",
		d.Project, d.Stage, len(attacks), deployer.CallStats().Total().Calls, time.Since(start).Round(time.Millisecond))
}

func isDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException")
}

// withSecret is d with one more secret, key "foreign", named name, read by
// nobody: what import needs to adopt an existing secret.
func withSecret(d *spec.Desired, name string) *spec.Desired {
	c := *d
	c.Secrets = append(slices.Clone(d.Secrets), &spec.Secret{Key: "foreign", Name: name, RecoveryWindowDays: 7,
		Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary + "-imported")}})
	return &c
}
