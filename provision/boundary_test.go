package provision_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestRolesCarryTheStageBoundary: apply creates the stage's boundary when
// the session may (an administrator's), every managed role carries it — one
// made before the boundary existed gets it — and a spec role may name no
// other boundary.
func TestRolesCarryTheStageBoundary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sandboxBackend(sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})).mustConnect(t)
	d := testDesired("dev", sandboxAccount, canary)
	want := provision.BoundaryARN(d, sandboxAccount)

	d.Roles[0].PermissionsBoundary = "arn:aws:iam::" + sandboxAccount + ":policy/secretboot/shop/dev/mine"
	if _, err := planOf(ctx, s, d, false); err == nil || !strings.Contains(err.Error(), "role web: permissions_boundary") || !strings.Contains(err.Error(), want) {
		t.Fatalf("plan with a boundary of the role's own = %v, want an error naming the role and the stage's boundary", err)
	}
	d.Roles[0].PermissionsBoundary = want // naming the stage's boundary is allowed
	// A role of the stage from before boundaries, and no boundary yet.
	if _, err := s.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(d.Roles[0].Name), Path: aws.String(provision.RolePath(d)),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Description:              aws.String(d.Roles[0].Description),
		Tags:                     []iamtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("shop")}, {Key: aws.String(provision.TagStage), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	p, err := planOf(ctx, s, d, false)
	if err != nil {
		t.Fatal(err)
	}
	var rc *provision.RoleChange
	for _, c := range p.Changes {
		if c.Kind == provision.KindRole && c.Action == provision.ActionUpdate {
			rc = c.Role
		}
	}
	if rc == nil || rc.Boundary == nil || rc.Boundary.New != want || rc.Trust != nil || len(rc.Tags) != 0 {
		t.Fatalf("plan for a role without the boundary: %+v, want only the boundary set", rc)
	}
	if err := converge1(ctx, s, d, false); err != nil {
		t.Fatal(err)
	}
	role, err := s.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(d.Roles[0].Name)})
	if err != nil {
		t.Fatal(err)
	}
	if pb := role.Role.PermissionsBoundary; pb == nil || aws.ToString(pb.PermissionsBoundaryArn) != want {
		t.Errorf("role's boundary = %+v, want %s", pb, want)
	}
	b, err := provision.StageBoundary(d)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(want)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(want), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		t.Fatal(err)
	}
	if got := policyText(t, aws.ToString(v.PolicyVersion.Document)); got != string(b.Document.Canonical()) {
		t.Errorf("installed boundary:\n%s\nwant:\n%s", got, b.Document.Canonical())
	}
	// Destroy leaves the boundary, which is the administrator's.
	if err := converge1(ctx, s, d, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(want)}); err != nil {
		t.Errorf("the boundary after destroy: %v", err)
	}
}

// policyText is the canonical form of a document as IAM returns it,
// URL-encoded.
func policyText(t *testing.T, encoded string) string {
	t.Helper()
	raw, err := url.PathUnescape(encoded)
	if err != nil {
		t.Fatal(err)
	}
	d, err := policy.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return string(d.Canonical())
}

// TestBoundaryReadsOnlyOwned, on an enforcing sandbox serving two
// regions: a bounded role whose identity policy allows reading everything
// under the stage's prefix in every region (what a stolen deployer can
// write on the stage's roles) reads, through the boundary, the stage's
// secrets and their replicas in another region, but no secret under the
// prefix that is not the stage's, in any region: one without the
// ownership tags (another project's dev/) or another stage's.
func TestBoundaryReadsOnlyOwned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true, Regions: []string{"us-west-2"}})
	admin := sandboxBackend(env).mustConnect(t)
	d := testDesired("dev", sandboxAccount, canary)
	installBoundary(t, admin, d)
	const role = "shop-dev-thief"
	if _, err := admin.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), Path: aws.String(provision.RolePath(d)),
		PermissionsBoundary:      aws.String(provision.BoundaryARN(d, sandboxAccount)),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + sandboxAccount + `:root"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("everywhere"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:` + sandboxAccount + `:secret:dev/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	in := func(region string, creds aws.CredentialsProvider) *secretsmanager.Client {
		return secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, region, creds))
	}
	adminCreds := credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "")
	tags := func(stage string) []smtypes.Tag {
		return []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("shop")}, {Key: aws.String(provision.TagStage), Value: aws.String(stage)}}
	}
	for _, s := range []struct {
		region, name string
		tags         []smtypes.Tag
		replicas     []smtypes.ReplicaRegionType
	}{
		{"us-east-1", "dev/owned", tags("dev"), []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}},
		{"us-east-1", "dev/untagged", nil, nil},
		{"us-west-2", "dev/foreign", nil, nil},
		{"us-west-2", "dev/prods", tags("prod"), nil},
	} {
		if _, err := in(s.region, adminCreds).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.name), SecretString: aws.String(canary),
			Tags: s.tags, AddReplicaRegions: s.replicas}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + sandboxAccount + ":role" + provision.RolePath(d) + role), RoleSessionName: aws.String("thief")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	thief := credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	for _, tt := range []struct {
		region, name string
		allowed      bool
	}{
		{"us-east-1", "dev/owned", true},
		{"us-east-1", "dev/untagged", false}, // under the prefix, but not the stage's: another project's dev/
		{"us-west-2", "dev/owned", true},     // the replica carries the primary's tags
		{"us-west-2", "dev/foreign", false},
		{"us-west-2", "dev/prods", false},
	} {
		_, getErr := in(tt.region, thief).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.name)})
		_, describeErr := in(tt.region, thief).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(tt.name)})
		for op, err := range map[string]error{"GetSecretValue": getErr, "DescribeSecret": describeErr} {
			if tt.allowed && err != nil || !tt.allowed && !isDenied(err) {
				t.Errorf("%s of %s in %s: %v, want allowed %v", op, tt.name, tt.region, err, tt.allowed)
			}
		}
	}
}

// TestStaleBoundaryWarns: a plan whose stage carries a boundary other than
// the one this version writes (here one installed before reads needed the
// ownership tags) says so, reading it role by role or account-wide, and
// stops saying so once the current one is installed.
func TestStaleBoundaryWarns(t *testing.T) {
	t.Parallel()
	for _, accountWide := range []bool{false, true} {
		ctx := context.Background()
		admin := sandboxBackend(sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})).mustConnect(t)
		d := testDesired("dev", sandboxAccount, canary)
		d.AccountIAMRead = accountWide
		b, err := provision.StageBoundary(d)
		if err != nil {
			t.Fatal(err)
		}
		old := b.Document.Normalized()
		for i := range old.Statement {
			if old.Statement[i].Sid == provision.SidBoundaryRead {
				old.Statement[i].Condition = nil // every secret under the prefix
			}
		}
		if _, err := admin.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(b.Name), Path: aws.String(b.Path),
			PolicyDocument: aws.String(string(old.Compact()))}); err != nil {
			t.Fatal(err)
		}
		stale := func() bool {
			t.Helper()
			p, err := planOf(ctx, admin, d, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range p.Header.Warnings {
				if strings.Contains(w, "permissions boundary "+b.ARN+" is not the one") {
					return true
				}
			}
			return false
		}
		if !stale() {
			t.Errorf("account-wide %v: no warning about the stale boundary", accountWide)
		}
		if _, err := admin.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(b.ARN),
			PolicyDocument: aws.String(string(b.Document.Compact())), SetAsDefault: true}); err != nil {
			t.Fatal(err)
		}
		if stale() {
			t.Errorf("account-wide %v: a warning about the current boundary", accountWide)
		}
	}
}
