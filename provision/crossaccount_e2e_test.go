package provision_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/provision/review"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

const (
	crossAccount = "222222222222"
	crossReader  = "arn:aws:iam::" + crossAccount + ":role/reporting"
	crossKeyID   = "7a1e9c3b-2d4f-4e6a-9b8c-1f2e3d4c5b6a"
	crossKey     = "arn:aws:kms:us-east-1:" + sandboxAccount + ":key/" + crossKeyID
)

// crossAccountSpec is resourcePolicySpec(true) with a reader in another
// account on dev/app/db, as spec sets it apart: not among the roles, in
// the secret's CrossAccountReaders, with a customer managed key.
func crossAccountSpec() *spec.Desired {
	d := resourcePolicySpec(true)
	d.CrossAccountRoles = []*spec.Role{{Key: "reporting", Name: "reporting", External: crossReader, CrossAccount: true}}
	d.Secrets[0].KMSKeyARN = crossKey
	d.Secrets[0].CrossAccountReaders = []string{crossReader}
	return d
}

// TestCrossAccountReaderApply: as the deployer (DeployerPolicy only, on an
// enforcing sandbox), a stage with a cross-account reader plans, applies
// and converges; the secret's resource policy allows the foreign role and
// the other secret's does not; the deployer policy names nothing of the
// other account, so the engine never reads or writes the foreign role
// (an attempt would be denied and fail the plan). TestCrossAccountRead
// has the foreign role read.
func TestCrossAccountReaderApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := crossAccountSpec()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true, KMSKeys: customerKeys(d)})
	admin := sandboxBackend(env).mustConnect(t)
	installBoundary(t, admin, d)
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc.Canonical()), "222222222222") {
		t.Fatalf("the deployer policy grants something in the reader's account:\n%s", doc.Canonical())
	}
	deployer := (&deployerFixture{env: env, admin: admin}).connect(t, doc)
	// Letting another account read is a broadening, which
	// -fail-on-broadening stops: a pull request cannot add a foreign
	// reader past the review gate. Once in place, it is no change.
	p, err := planOf(ctx, deployer, d, false)
	if err != nil {
		t.Fatal(err)
	}
	var broadens []string
	for _, c := range p.Changes {
		if c.Resource != nil {
			broadens = append(broadens, c.Resource.Broadens...)
		}
	}
	if strings.Join(broadens, " ") != crossReader || p.Summary.Broadening < 1 {
		t.Errorf("first plan: resource policies broaden %v, summary %d broadening grants; want %s counted", broadens, p.Summary.Broadening, crossReader)
	}
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Secrets {
		out, err := admin.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(s.Name)})
		if err != nil {
			t.Fatal(err)
		}
		live, err := policy.Parse([]byte(aws.ToString(out.ResourcePolicy)))
		if err != nil {
			t.Fatal(err)
		}
		var allowed []string
		for _, st := range live.Statement {
			if st.Sid == policy.SidAllowCrossAccountReaders && st.Principal != nil {
				allowed = append(allowed, st.Principal.Values["AWS"]...)
			}
		}
		want := ""
		if len(s.CrossAccountReaders) > 0 {
			want = crossReader
		}
		if strings.Join(allowed, " ") != want {
			t.Errorf("%s: the resource policy allows %v, want %q", s.Name, allowed, want)
		}
	}
	if err := converge1(ctx, deployer, d, true); err != nil {
		t.Fatalf("destroy: %v", err)
	}
}

// TestCrossAccountRead is the proof that a cross-account reader reads, on
// a sandbox with the reader's account as a second account: the deployer
// applies the stage in account A; in account B the administrator installs
// on the reader the identity policy of its reviewer file
// (<account>~<role>.cross-account.json), and the key owner adds the
// statements of <key-id>.key-policy.json to the key policy (the resource
// policy cannot name the reader before it exists in B). Then the B
// role reads the A secret by ARN through the SDK. It is denied without the
// key grant, denied while the resource policy is gone (until the next
// apply restores it), and another B role with the same identity policy,
// not named in the spec, is denied throughout.
func TestCrossAccountRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := crossAccountSpec()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, Accounts: []string{crossAccount}, EnforceAuth: true, KMSKeys: customerKeys(d)})
	admin := sandboxBackend(env).mustConnect(t)
	deployer := stageDeployer(t, env, admin, d)

	// As on AWS, a resource policy cannot name a role that does not exist.
	p, err := planOf(ctx, deployer, d, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Apply(ctx, deployer, p, d, provision.ApplyOptions{PropagationTimeout: 100 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "unsupported principal") {
		t.Fatalf("apply before the reader exists in account B: %v, want the resource policy refused", err)
	}

	// Account B's administrator: the reader the spec names and one it
	// does not.
	id, secret, _ := env.Server.AdminCredentialsFor(crossAccount)
	other := sandboxtest.Config(env.URL, "us-east-1", credentials.NewStaticCredentialsProvider(id, secret, ""))
	otherIAM := iam.NewFromConfig(other)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + crossAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	for _, name := range []string{"reporting", "intruder"} {
		if _, err := otherIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatal(err)
	}

	o, err := provision.Observe(ctx, deployer, d)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*policy.Document{}
	for _, f := range review.Files(nil, provision.Resolve(d, o).Secrets) {
		files[f.Name] = f.Doc
	}
	identity, keyGrant := files[crossAccount+"~reporting.cross-account.json"], files[crossKeyID+".key-policy.json"]
	if identity == nil || keyGrant == nil {
		t.Fatalf("reviewer files %v lack the other side's documents", slices.Sorted(maps.Keys(files)))
	}

	// B's administrator installs the same identity policy on both.
	readers := map[string]*secretsmanager.Client{}
	for _, name := range []string{"reporting", "intruder"} {
		if _, err := otherIAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("secretboot-dev"),
			PolicyDocument: aws.String(string(identity.Compact()))}); err != nil {
			t.Fatal(err)
		}
		out, err := sts.NewFromConfig(other).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + crossAccount + ":role/" + name), RoleSessionName: aws.String("job")})
		if err != nil {
			t.Fatal(err)
		}
		c2 := out.Credentials
		readers[name] = secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, "us-east-1",
			credentials.NewStaticCredentialsProvider(aws.ToString(c2.AccessKeyId), aws.ToString(c2.SecretAccessKey), aws.ToString(c2.SessionToken))))
	}
	arns := map[string]string{}
	for _, s := range d.Secrets {
		out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.Name)})
		if err != nil {
			t.Fatal(err)
		}
		arns[s.Key] = aws.ToString(out.ARN)
	}
	read := func(who, key string) error {
		out, err := readers[who].GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arns[key])})
		if err == nil && aws.ToString(out.SecretString) != canary+"-"+key {
			return errors.New("read another value than the declared one")
		}
		return err
	}
	// expect checks who reads what: only the named reader its one secret.
	expect := func(step string, reporting bool) {
		t.Helper()
		if err := read("reporting", "app/db"); (err == nil) != reporting || err != nil && !isDenied(err) {
			t.Errorf("%s: the named reader reads app/db: %v, want read %v", step, err, reporting)
		}
		for who, key := range map[string]string{"reporting": "jobs/feed", "intruder": "app/db"} {
			if err := read(who, key); !isDenied(err) {
				t.Errorf("%s: %s reads %s: %v, want access denied", step, who, key, err)
			}
		}
	}
	expect("without the key grant", false)

	keys := kms.NewFromConfig(env.Config)
	kp, err := keys.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(crossKey), PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	current, err := policy.Parse([]byte(aws.ToString(kp.Policy)))
	if err != nil {
		t.Fatal(err)
	}
	current.Statement = append(current.Statement, keyGrant.Statement...)
	if _, err := keys.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(crossKey), PolicyName: aws.String("default"),
		Policy: aws.String(string(current.Compact()))}); err != nil {
		t.Fatal(err)
	}
	expect("with the key grant", true)
	// audit reads the key policy and takes its grant to the spec's reader
	// as expected, not as a key-policy finding.
	o, err = provision.Observe(ctx, admin, d)
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.Run(ctx, d, o, admin.IAM.(audit.IAMReader), admin.SecretsManager.(audit.PolicyReader), admin.KMS)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Keys) != 1 || !r.Keys[0].Read {
		t.Errorf("audit's keys: %+v, want the stage's key read", r.Keys)
	}
	for _, f := range r.Findings {
		if f.Kind == audit.KeyPolicy {
			t.Errorf("audit: %s", f)
		}
	}

	if _, err := admin.SecretsManager.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String(arns["app/db"])}); err != nil {
		t.Fatal(err)
	}
	expect("without the resource policy", false)
	if err := converge1(ctx, deployer, d, false); err != nil {
		t.Fatalf("restoring the resource policy: %v", err)
	}
	expect("after apply restores it", true)
	if err := converge1(ctx, deployer, d, true); err != nil {
		t.Fatalf("destroy: %v", err)
	}
}
