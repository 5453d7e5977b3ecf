package provision_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

const westKey = "arn:aws:kms:us-west-2:" + sandboxAccount + ":key/1111aaaa-0000-4000-8000-000000000001"

// replicatedDesired is testDesired with app/db replicated to us-west-2
// (with a customer key) and eu-west-1, read by web everywhere and by the
// role west only in us-west-2.
func replicatedDesired(host string) *spec.Desired {
	d := testDesired("dev", sandboxAccount, canary)
	d.Roles = append(d.Roles, &spec.Role{Key: "west", Name: "shop-dev-west", Services: []string{"ec2.amazonaws.com"}, Regions: []string{"us-west-2"}})
	db := d.Secrets[0]
	db.Payload = dbPayload(host)
	db.Replicas = []spec.Replica{{Region: "eu-west-1"}, {Region: "us-west-2", KMSKeyARN: westKey}}
	db.Readers = append(db.Readers, spec.Reader{Role: "west"})
	return d
}

// replicaOps is the replication change a plan has for secret name, as
// "op region" entries; nil for none.
func replicaOps(p *provision.Plan, name string) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Kind == provision.KindReplication && c.Name == name {
			for _, r := range c.Replication.Replicas {
				out = append(out, r.Op+" "+r.Region)
			}
		}
	}
	return out
}

// calls counts the session's calls of operation so far.
func calls(s *provision.Session, operation string) int {
	for _, op := range s.CallStats().Ops {
		if op.Operation == operation {
			return op.Calls
		}
	}
	return 0
}

// TestReplicationEndToEnd, as the deployer on the enforcing sandbox
// serving three regions: the declared replicas are created in two
// regions with the secret (CreateSecret's AddReplicaRegions), with the
// replica's customer key; plan stays clean and costs
// one DescribeSecret for the replicated secret; a reader limited to
// us-west-2 reads the replica there and nothing else; a payload change
// reaches the replicas; a replica removed outside secretboot is planned
// and restored; a failed replica is retried; a region dropped from the
// spec is removed; destroy removes the replicas before the secret.
func TestReplicationEndToEnd(t *testing.T) {
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, EnforceAuth: true,
		Regions: []string{"us-west-2", "eu-west-1", "ap-south-1"}, KMSKeys: []string{westKey}})
	admin := sandboxBackend(env).mustConnect(t)
	d := replicatedDesired("db.internal")
	s := stageDeployer(t, env, admin, d)
	db, stripe := d.Secrets[0].Name, d.Secrets[1].Name
	replicas := func() string {
		t.Helper()
		out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
		if err != nil {
			t.Fatal(err)
		}
		var rs []string
		for _, r := range out.ReplicationStatus {
			rs = append(rs, aws.ToString(r.Region)+" "+string(r.Status)+" "+aws.ToString(r.KmsKeyId))
		}
		return strings.Join(rs, ", ")
	}
	hostIn := func(region string) string {
		t.Helper()
		out, err := adminIn(env, region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(db)})
		if err != nil {
			t.Fatalf("reading the copy in %s: %v", region, err)
		}
		return fields(t, aws.ToString(out.SecretString))["host"]
	}
	clean := func(what string) {
		t.Helper()
		if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
			t.Fatalf("plan after %s:\n%s", what, textOf(t, p))
		}
	}

	p := plan(t, s, d, provision.DiffOptions{})
	if got := strings.Join(replicaOps(p, db), ", "); got != "add eu-west-1, add us-west-2" {
		t.Fatalf("first plan replicates %q", got)
	}
	if ops := replicaOps(p, stripe); ops != nil {
		t.Fatalf("first plan replicates %s: %v", stripe, ops)
	}
	apply(t, s, p, d)
	if n := calls(s, "ReplicateSecretToRegions"); n != 0 {
		t.Errorf("the first apply made %d ReplicateSecretToRegions calls, want 0: CreateSecret carries the replicas", n)
	}
	if got, want := replicas(), "eu-west-1 InSync alias/aws/secretsmanager, us-west-2 InSync "+westKey; got != want {
		t.Fatalf("replicas after apply: %s", got)
	}
	before := calls(s, "DescribeSecret")
	clean("the first apply")
	if n := calls(s, "DescribeSecret") - before; n != 1 {
		t.Errorf("a clean plan made %d DescribeSecret calls, want 1 (the one replicated secret)", n)
	}
	if err := verifyOnline(ctx, s, d); err != nil {
		t.Fatal(err)
	}
	// The pull request's plan role reads the replication too, and finds
	// nothing to change.
	reviewerDoc, err := provision.ReviewerPolicy(d)
	if err != nil {
		t.Fatal(err)
	}
	review := (&deployerFixture{env: env, admin: admin}).connectAs(t, "reviewer", reviewerDoc)
	o, err := provision.ObserveStructure(ctx, review, d)
	if err != nil {
		t.Fatalf("plan without payloads as the plan role: %v", err)
	}
	if p, err := provision.Diff(d, o, provision.DiffOptions{NoPayloads: true}); err != nil || len(replicaOps(p, db)) > 0 {
		t.Fatalf("plan without payloads as the plan role: %v, replication %v", err, replicaOps(p, db))
	}
	for _, region := range []string{"us-west-2", "eu-west-1"} {
		if h := hostIn(region); h != "db.internal" {
			t.Fatalf("the replica in %s holds host %q", region, h)
		}
	}

	// Readers: west reads the replica in us-west-2 and nothing else; web
	// reads every copy.
	roleIn := func(role string) func(region string) *secretsmanager.Client {
		out, err := sts.NewFromConfig(env.Config).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + sandboxAccount + ":role/secretboot/shop/dev/" + role), RoleSessionName: aws.String("app"),
		})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return func(region string) *secretsmanager.Client {
			return secretsmanager.NewFromConfig(sandboxtest.Config(env.URL, region,
				credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))))
		}
	}
	west, web := roleIn("shop-dev-west"), roleIn("shop-dev-web")
	read := func(c *secretsmanager.Client, id string) error {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		return err
	}
	if err := read(west("us-west-2"), db); err != nil {
		t.Fatalf("west cannot read the replica in us-west-2: %v", err)
	}
	denied := map[string]error{
		"read the primary":              read(west("us-east-1"), db),
		"read the replica in eu-west-1": read(west("eu-west-1"), db),
		"read the other secret":         read(west("us-east-1"), stripe),
		"read the stage key":            read(west("us-east-1"), provision.StageKeyName(d)),
	}
	_, denied["describe the replica"] = west("us-west-2").DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
	for what, err := range denied {
		if !isDenied(err) {
			t.Errorf("west could %s: %v", what, err)
		}
	}
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		if err := read(web(region), db); err != nil {
			t.Errorf("web cannot read the copy in %s: %v", region, err)
		}
	}

	// A payload change reaches the replicas.
	d = replicatedDesired("db2.internal")
	converge(t, s, d, provision.DiffOptions{})
	for _, region := range []string{"us-west-2", "eu-west-1"} {
		if h := hostIn(region); h != "db2.internal" {
			t.Fatalf("after the payload change the replica in %s holds host %q", region, h)
		}
	}

	// The deployer replicates only to the spec's regions: an owned secret
	// to another region is denied, whether added to a secret or with a
	// new one, while the same calls made apply's replicas above.
	if _, err := s.SecretsManager.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
		SecretId: aws.String(db), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("ap-south-1")}}}); !isDenied(err) {
		t.Errorf("the deployer replicating to a region the spec does not name: %v, want AccessDenied", err)
	}
	// Nor over a secret of the same name in a replica's region, which need
	// not be the stage's.
	if _, err := s.SecretsManager.ReplicateSecretToRegions(ctx, &secretsmanager.ReplicateSecretToRegionsInput{
		SecretId: aws.String(db), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}, ForceOverwriteReplicaSecret: true}); !isDenied(err) {
		t.Errorf("the deployer replicating with ForceOverwriteReplicaSecret: %v, want AccessDenied", err)
	}
	if _, err := s.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(d.NamePrefix + "exfil"), SecretString: aws.String("x"), ClientRequestToken: aws.String("00000000-0000-4000-8000-000000000000"),
		Tags:              []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String(d.Project)}, {Key: aws.String(provision.TagStage), Value: aws.String(d.Stage)}},
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("ap-south-1")}}}); !isDenied(err) {
		t.Errorf("the deployer creating a secret replicated to a region the spec does not name: %v, want AccessDenied", err)
	}

	// A replica removed outside secretboot is planned and restored.
	if _, err := admin.SecretsManager.RemoveRegionsFromReplication(ctx, &secretsmanager.RemoveRegionsFromReplicationInput{
		SecretId: aws.String(db), RemoveReplicaRegions: []string{"us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	p = plan(t, s, d, provision.DiffOptions{})
	if got := strings.Join(replicaOps(p, db), ", "); got != "add us-west-2" {
		t.Fatalf("plan after removing a replica outside: %q\n%s", got, textOf(t, p))
	}
	apply(t, s, p, d)
	clean("restoring the replica")
	if h := hostIn("us-west-2"); h != "db2.internal" {
		t.Fatalf("the restored replica holds host %q", h)
	}
	if err := read(west("us-west-2"), db); err != nil {
		t.Fatalf("west cannot read the restored replica: %v", err)
	}

	// A failed replica is shown with its message and retried.
	if err := env.Server.FailReplica("eu-west-1", db); err != nil {
		t.Fatal(err)
	}
	p = plan(t, s, d, provision.DiffOptions{})
	var msg string
	for _, c := range p.Changes {
		if c.Replication != nil && len(c.Replication.Replicas) == 1 && c.Replication.Replicas[0].Op == provision.ReplicaRetry {
			msg = c.Replication.Replicas[0].Message
		}
	}
	if msg == "" {
		t.Fatalf("plan after a replica failed:\n%s", textOf(t, p))
	}
	apply(t, s, p, d)
	clean("retrying the failed replica")

	// A region dropped from the spec is removed.
	d.Secrets[0].Replicas = d.Secrets[0].Replicas[1:]
	p = plan(t, s, d, provision.DiffOptions{})
	if got := strings.Join(replicaOps(p, db), ", "); got != "remove eu-west-1" {
		t.Fatalf("plan after dropping eu-west-1: %q", got)
	}
	apply(t, s, p, d)
	clean("removing eu-west-1")
	if got := replicas(); !strings.HasPrefix(got, "us-west-2 InSync") || strings.Contains(got, "eu-west-1") {
		t.Fatalf("replicas after removing eu-west-1: %s", got)
	}
	if err := read(adminIn(env, "eu-west-1"), db); err == nil {
		t.Fatal("the removed replica can still be read")
	}

	// Destroy: the replicas go before the secret, which Secrets Manager
	// refuses to delete while replicated.
	p = plan(t, s, d, provision.DiffOptions{Destroy: true})
	if got := strings.Join(replicaOps(p, db), ", "); got != "remove us-west-2" {
		t.Fatalf("destroy plan: replication %q", got)
	}
	apply(t, s, p, d)
	out, err := admin.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
	if err != nil || out.DeletedDate == nil || len(out.ReplicationStatus) != 0 {
		t.Fatalf("after destroy: deleted %v, replicas %v, %v", out.DeletedDate != nil, out.ReplicationStatus, err)
	}
}

// TestPromotedReplicaFailsTheAdd: a replica promoted outside secretboot
// (StopReplicationToReplica) is a secret of its own that keeps the name in
// its region. Plan adds the replica again; apply must fail saying the name
// is taken, not report success while AWS marks the new replica Failed.
func TestPromotedReplicaFailsTheAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, Regions: []string{"us-west-2", "eu-west-1"}, KMSKeys: []string{westKey}})
	s := sandboxBackend(env).mustConnect(t)
	d := replicatedDesired("db.internal")
	converge(t, s, d, provision.DiffOptions{})
	db := d.Secrets[0].Name
	if _, err := adminIn(env, "eu-west-1").StopReplicationToReplica(ctx, &secretsmanager.StopReplicationToReplicaInput{SecretId: aws.String(db)}); err != nil {
		t.Fatal(err)
	}
	p := plan(t, s, d, provision.DiffOptions{})
	if got := replicaOps(p, db); !slices.Equal(got, []string{"add eu-west-1"}) {
		t.Fatalf("plan after the promotion: %v, want the replica added again", got)
	}
	_, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "a secret of its name still exists in eu-west-1") {
		t.Fatalf("apply over a promoted replica: %v, want the taken name reported", err)
	}
}
