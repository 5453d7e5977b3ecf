package provision_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

const (
	crossReader = "arn:aws:iam::222222222222:role/reporting"
	crossKey    = "arn:aws:kms:us-east-1:" + sandboxAccount + ":key/7a1e9c3b-2d4f-4e6a-9b8c-1f2e3d4c5b6a"
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
// (an attempt would be denied and fail the plan). The sandbox is one
// account, so the foreign role is never assumed here: its read is proven
// by the evaluator (policy's TestResourcePolicyEvaluate), and on AWS it
// also needs its own identity policy and the key policy grant (review
// files).
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
