package sandbox_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// regionsEnv is an enforcing sandbox serving us-east-1 (home), us-west-2
// and eu-west-1.
type regionsEnv struct {
	t   *testing.T
	env *sandboxtest.Env
	ctx context.Context
}

const regionsAccount = "111111111111"

func startRegions(t *testing.T, opts sandbox.Options) regionsEnv {
	opts.Account, opts.EnforceAuth = regionsAccount, true
	if opts.Regions == nil {
		opts.Regions = []string{"us-west-2", "eu-west-1"}
	}
	return regionsEnv{t, sandboxtest.Start(t, opts), context.Background()}
}

// admin returns the admin's Secrets Manager client in region.
func (e regionsEnv) admin(region string) *sm.Client {
	id, secret := e.env.Server.AdminCredentials()
	return sm.NewFromConfig(sandboxtest.Config(e.env.URL, region, staticCreds(id, secret, "")))
}

// role creates a role with one inline policy and returns a function giving
// a Secrets Manager client of a session of it in a region.
func (e regionsEnv) role(name, doc string) func(region string) *sm.Client {
	e.t.Helper()
	cfg := roleSession(e.t, e.env, name, doc)
	return func(region string) *sm.Client {
		c := cfg
		c.Region = region
		return sm.NewFromConfig(c)
	}
}

// value reads AWSCURRENT through c, "" and the error code when it fails.
func (e regionsEnv) value(c *sm.Client, id string) (value, code string) {
	out, err := c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		code, _ = errorOf(err)
		if code == "" {
			e.t.Fatalf("reading %s: %v", id, err)
		}
		return "", code
	}
	return aws.ToString(out.SecretString), ""
}

func statuses(rs []smtypes.ReplicationStatusType) string {
	var out []string
	for _, r := range rs {
		out = append(out, aws.ToString(r.Region)+"="+string(r.Status))
	}
	return strings.Join(out, " ")
}

func inRegion(arn, region string) string {
	f := strings.SplitN(arn, ":", 5)
	f[3] = region
	return strings.Join(f, ":")
}

// TestReplication drives replication through the SDK: a secret created
// with replicas in two regions, one under a customer key of its region;
// payload, tags and resource policy replicated; writes on a replica and
// deleting a replicated primary refused; readers authorized per region
// (replica ARN, the replica region's key through that region's Secrets
// Manager, aws:RequestedRegion); a failed replica no longer updated;
// removal; promotion.
func TestReplication(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	east, west, eu := e.admin("us-east-1"), e.admin("us-west-2"), e.admin("eu-west-1")
	id, secret := e.env.Server.AdminCredentials()
	westKMS := kms.NewFromConfig(sandboxtest.Config(e.env.URL, "us-west-2", staticCreds(id, secret, "")))
	k, err := westKMS.CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	westKey := aws.ToString(k.KeyMetadata.Arn)
	if !strings.Contains(westKey, ":us-west-2:") {
		t.Fatalf("key created in us-west-2 has ARN %s", westKey)
	}

	created, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{
		Name: aws.String("app/db"), SecretString: aws.String("v1-0123456789"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
		AddReplicaRegions: []smtypes.ReplicaRegionType{
			{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westKey)},
			{Region: aws.String("eu-west-1")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.ARN)
	if got := statuses(created.ReplicationStatus); got != "us-west-2=InSync eu-west-1=InSync" {
		t.Fatalf("CreateSecret ReplicationStatus = %s", got)
	}
	if _, err := east.PutResourcePolicy(e.ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(arn), ResourcePolicy: aws.String(allow(
		`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret","Resource":"*"}`))}); err != nil {
		t.Fatal(err)
	}

	d, err := west.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String("app/db")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(d.ARN), inRegion(arn, "us-west-2"); got != want {
		t.Errorf("replica ARN = %s, want %s (same name and suffix)", got, want)
	}
	if aws.ToString(d.PrimaryRegion) != "us-east-1" || aws.ToString(d.KmsKeyId) != westKey || len(d.Tags) != 1 {
		t.Errorf("replica: PrimaryRegion %q, KmsKeyId %q, Tags %v", aws.ToString(d.PrimaryRegion), aws.ToString(d.KmsKeyId), d.Tags)
	}
	p, err := west.GetResourcePolicy(e.ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("app/db")})
	if err != nil || !strings.Contains(aws.ToString(p.ResourcePolicy), "DeleteSecret") {
		t.Errorf("replica resource policy = %q, %v", aws.ToString(p.ResourcePolicy), err)
	}

	// A new value on the primary reaches both replicas, with its version.
	put, err := east.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("v2-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*sm.Client{west, eu} {
		v, err := c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String("app/db")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(v.SecretString) != "v2-0123456789" || aws.ToString(v.VersionId) != aws.ToString(put.VersionId) {
			t.Errorf("replica reads %s, want the primary's new version %s", aws.ToString(v.VersionId), aws.ToString(put.VersionId))
		}
	}

	// No writes on a replica; no deleting a primary with replicas.
	for name, call := range map[string]func() error{
		"PutSecretValue": func() error {
			_, err := west.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("x-0123456789")})
			return err
		},
		"TagResource": func() error {
			_, err := eu.TagResource(e.ctx, &sm.TagResourceInput{SecretId: aws.String("app/db"), Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
			return err
		},
		"DeleteSecret on the replica": func() error {
			_, err := eu.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("app/db")})
			return err
		},
	} {
		if code, msg := errorOf(call()); code != "InvalidParameterException" || !strings.Contains(msg, "replica") {
			t.Errorf("%s on a replica = %s %q, want InvalidParameterException (operation not permitted on a replica)", name, code, msg)
		}
	}
	if _, err := east.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn)}); err == nil {
		t.Error("deleting a primary with replicas succeeded")
	}

	// Readers per region: a grant on the primary's ARN does not reach the
	// replica; the replica's ARN with its region's key does.
	westARN := inRegion(arn, "us-west-2")
	onlyEast := e.role("only-east", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+arn+`"}`))
	westReader := e.role("west-reader", readGrant(westARN, westKey, "us-west-2"))
	westNoKey := e.role("west-no-key", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+westARN+`"}`))
	viaEast := e.role("west-key-via-east", readGrant(westARN, westKey, "us-east-1"))
	eastOnly := e.role("requested-east", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`))
	for _, tc := range []struct {
		name   string
		client *sm.Client
		code   string
	}{
		{"primary grant, primary", onlyEast("us-east-1"), ""},
		{"primary grant, replica", onlyEast("us-west-2"), "AccessDeniedException"},
		{"replica grant with key, replica", westReader("us-west-2"), ""},
		{"replica grant with key, primary", westReader("us-east-1"), "AccessDeniedException"},
		{"replica grant with key, other replica", westReader("eu-west-1"), "AccessDeniedException"},
		{"replica grant without key", westNoKey("us-west-2"), "AccessDeniedException"},
		{"key granted through the wrong region's Secrets Manager", viaEast("us-west-2"), "AccessDeniedException"},
		{"any ARN, aws:RequestedRegion us-east-1, primary", eastOnly("us-east-1"), ""},
		{"any ARN, aws:RequestedRegion us-east-1, replica", eastOnly("eu-west-1"), "AccessDeniedException"},
	} {
		if _, code := e.value(tc.client, "app/db"); code != tc.code {
			t.Errorf("%s: error %q, want %q", tc.name, code, tc.code)
		}
	}

	// A failed replica stays as it was; the others follow.
	if err := e.env.Server.FailReplica("us-west-2", "app/db"); err != nil {
		t.Fatal(err)
	}
	if _, err := east.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("v3-0123456789")}); err != nil {
		t.Fatal(err)
	}
	d, err = east.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(d.ReplicationStatus); got != "us-west-2=Failed eu-west-1=InSync" || aws.ToString(d.ReplicationStatus[0].StatusMessage) == "" {
		t.Errorf("after FailReplica: %s, message %q", got, aws.ToString(d.ReplicationStatus[0].StatusMessage))
	}
	if v, _ := e.value(west, "app/db"); v != "v2-0123456789" {
		t.Errorf("failed replica reads %q, want its last replicated value", v)
	}
	if v, _ := e.value(eu, "app/db"); v != "v3-0123456789" {
		t.Errorf("in-sync replica reads %q, want v3", v)
	}

	// Removal deletes the replica at once.
	rm, err := east.RemoveRegionsFromReplication(e.ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String(arn), RemoveReplicaRegions: []string{"us-west-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(rm.ReplicationStatus); got != "eu-west-1=InSync" {
		t.Errorf("after removal: %s", got)
	}
	if _, code := e.value(west, "app/db"); code != "ResourceNotFoundException" {
		t.Errorf("removed replica: %q, want ResourceNotFoundException", code)
	}

	// Promotion: the eu-west-1 replica becomes a standalone secret.
	if _, err := east.StopReplicationToReplica(e.ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String(arn)}); err == nil {
		t.Error("StopReplicationToReplica on the primary succeeded")
	}
	if _, err := eu.StopReplicationToReplica(e.ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String("app/db")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eu.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("eu-0123456789")}); err != nil {
		t.Errorf("writing the promoted secret: %v", err)
	}
	if v, _ := e.value(east, arn); v != "v3-0123456789" {
		t.Errorf("primary reads %q after the promoted secret's write", v)
	}
	d, err = east.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil || len(d.ReplicationStatus) != 0 || d.PrimaryRegion != nil {
		t.Errorf("primary after promotion: %v, %v", d, err)
	}
	if _, err := east.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Errorf("deleting the primary without replicas: %v", err)
	}
}

// TestReplicationToTakenName: a replica whose name is taken in its region
// fails, unless ForceOverwriteReplicaSecret replaces the secret there;
// a region the sandbox does not serve, the primary's own region or one
// listed twice is refused before anything changes.
func TestReplicationToTakenName(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	east, west := e.admin("us-east-1"), e.admin("us-west-2")
	if _, err := west.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/x"), SecretString: aws.String("west-0123456789")}); err != nil {
		t.Fatal(err)
	}
	c, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/x"), SecretString: aws.String("east-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"ap-south-1"}, {"us-east-1"}, {"eu-west-1", "eu-west-1"}} {
		var in []smtypes.ReplicaRegionType
		for _, r := range bad {
			in = append(in, smtypes.ReplicaRegionType{Region: aws.String(r)})
		}
		_, err := east.ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: c.ARN, AddReplicaRegions: in})
		if code, _ := errorOf(err); code != "InvalidParameterException" {
			t.Errorf("replicating to %v: %v, want InvalidParameterException", bad, err)
		}
	}
	if d, _ := east.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: c.ARN}); len(d.ReplicationStatus) != 0 {
		t.Fatalf("refused requests left replicas: %s", statuses(d.ReplicationStatus))
	}

	out, err := east.ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: c.ARN,
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(out.ReplicationStatus); got != "us-west-2=Failed" || !strings.Contains(aws.ToString(out.ReplicationStatus[0].StatusMessage), "already exists") {
		t.Errorf("replicating onto a taken name: %s %q", got, aws.ToString(out.ReplicationStatus[0].StatusMessage))
	}
	if v, _ := e.value(west, "app/x"); v != "west-0123456789" {
		t.Errorf("the secret in us-west-2 changed: %q", v)
	}
	if _, err := east.RemoveRegionsFromReplication(e.ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: c.ARN, RemoveReplicaRegions: []string{"us-west-2"}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.value(west, "app/x"); v != "west-0123456789" {
		t.Errorf("removing a failed replica deleted the unrelated secret: %q", v)
	}
	out, err = east.ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: c.ARN, ForceOverwriteReplicaSecret: true,
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(out.ReplicationStatus); got != "us-west-2=InSync" {
		t.Errorf("forced replication: %s", got)
	}
	if v, _ := e.value(west, "app/x"); v != "east-0123456789" {
		t.Errorf("forced replica reads %q", v)
	}

	// Force overwrites a standalone secret only, never another primary's
	// replica.
	if _, err := e.admin("eu-west-1").CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/y"), SecretString: aws.String("eu-0123456789"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}); err != nil {
		t.Fatal(err)
	}
	y, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/y"), SecretString: aws.String("east-0123456789"), ForceOverwriteReplicaSecret: true,
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(y.ReplicationStatus); got != "us-west-2=Failed" {
		t.Errorf("forcing over another primary's replica: %s", got)
	}
	if v, _ := e.value(west, "app/y"); v != "eu-0123456789" {
		t.Errorf("the eu-west-1 secret's replica was overwritten: %q", v)
	}
}

// TestRegionRouting: each served region has its own secrets and keys, a
// region not served is refused, and ListSecrets shows a replica's primary
// region.
func TestRegionRouting(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	east, west := e.admin("us-east-1"), e.admin("us-west-2")
	if _, err := west.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("only/west"), SecretString: aws.String("w-0123456789")}); err != nil {
		t.Fatal(err)
	}
	if _, code := e.value(east, "only/west"); code != "ResourceNotFoundException" {
		t.Errorf("a us-west-2 secret in us-east-1: %q", code)
	}
	if _, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("rep"), SecretString: aws.String("r-0123456789"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}); err != nil {
		t.Fatal(err)
	}
	l, err := west.ListSecrets(e.ctx, &sm.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range l.SecretList {
		got = append(got, aws.ToString(s.Name)+"@"+aws.ToString(s.PrimaryRegion))
	}
	slices.Sort(got)
	if want := []string{"only/west@", "rep@us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets in us-west-2 = %v, want %v", got, want)
	}
	_, err = e.admin("ap-south-1").ListSecrets(e.ctx, &sm.ListSecretsInput{})
	if code, msg := errorOf(err); code != "UnrecognizedClientException" || !strings.Contains(msg, "ap-south-1") {
		t.Errorf("a region not served: %s %q", code, msg)
	}
}

// TestRegionsSurviveRestart: the state file keeps every region's secrets,
// replication and KMS keys, and a restart serves the regions it has even
// when the options do not name them.
func TestRegionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	const westKey = "arn:aws:kms:us-west-2:111111111111:key/0b5d7c9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
	opts := sandbox.Options{StateDir: dir, KMSKeys: []string{westKey}}
	e := startRegions(t, opts)
	if _, err := e.admin("us-east-1").CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("keep"), SecretString: aws.String("k-0123456789"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westKey)}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	opts.KMSKeys = nil // the key must come back from the state, not be seeded again
	e2 := startRegions(t, opts)
	if v, code := e2.value(e2.admin("us-west-2"), "keep"); v != "k-0123456789" {
		t.Fatalf("replica after restart: %q %s", v, code)
	}
	d, err := e2.admin("us-east-1").DescribeSecret(e2.ctx, &sm.DescribeSecretInput{SecretId: aws.String("keep")})
	if err != nil || statuses(d.ReplicationStatus) != "us-west-2=InSync" {
		t.Errorf("replication after restart: %v %v", d, err)
	}
	if err := e2.env.Server.Close(); err != nil {
		t.Fatal(err)
	}

	// A state keeps its regions: a sandbox started without them serves
	// them, with their keys.
	e3 := regionsEnv{t, sandboxtest.Start(t, sandbox.Options{StateDir: dir, Account: regionsAccount, EnforceAuth: true}), context.Background()}
	if v, code := e3.value(e3.admin("us-west-2"), "keep"); v != "k-0123456789" {
		t.Errorf("replica after a restart without -regions: %q %s", v, code)
	}
	id, secret := e3.env.Server.AdminCredentials()
	if _, err := kms.NewFromConfig(sandboxtest.Config(e3.env.URL, "us-west-2", staticCreds(id, secret, ""))).DescribeKey(e3.ctx, &kms.DescribeKeyInput{KeyId: aws.String(westKey)}); err != nil {
		t.Errorf("the us-west-2 key after a restart without -regions: %v", err)
	}
}

// TestReplicaKey: a replica's customer key must be usable in its region.
// A caller that may not use it, or a disabled key, fails the replica when
// it is added (no replica exists); a key disabled later fails the next
// update, and the replica keeps its last value, which the disabled key no
// longer decrypts.
func TestReplicaKey(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	east := e.admin("us-east-1")
	id, secret := e.env.Server.AdminCredentials()
	westKMS := kms.NewFromConfig(sandboxtest.Config(e.env.URL, "us-west-2", staticCreds(id, secret, "")))
	newKey := func() string {
		k, err := westKMS.CreateKey(e.ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(k.KeyMetadata.Arn)
	}
	create := func(name string) string {
		out, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v1-0123456789")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	replicate := func(c *sm.Client, arn, key string) smtypes.ReplicationStatusType {
		t.Helper()
		out, err := c.ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String(arn),
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(key)}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.ReplicationStatus[0]
	}

	// A deployer allowed to replicate but not to use the replica's key.
	a := create("app/a")
	deployer := e.role("deployer", allow(`{"Effect":"Allow","Action":"secretsmanager:ReplicateSecretToRegions","Resource":"`+a+`"}`))
	if st := replicate(deployer("us-east-1"), a, newKey()); st.Status != smtypes.StatusTypeFailed || !strings.Contains(aws.ToString(st.StatusMessage), "KMS") {
		t.Errorf("replicating under a key the caller may not use: %s %q", st.Status, aws.ToString(st.StatusMessage))
	}
	if _, code := e.value(e.admin("us-west-2"), "app/a"); code != "ResourceNotFoundException" {
		t.Errorf("a replica that failed to be created exists: %q", code)
	}

	b, key := create("app/b"), newKey()
	if st := replicate(east, b, key); st.Status != smtypes.StatusTypeInSync {
		t.Fatalf("replicating: %s %q", st.Status, aws.ToString(st.StatusMessage))
	}
	if _, err := westKMS.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String(b), SecretString: aws.String("v2-0123456789")}); err != nil {
		t.Fatalf("a disabled replica key must not stop writes on the primary: %v", err)
	}
	d, err := east.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(d.ReplicationStatus); got != "us-west-2=Failed" {
		t.Errorf("after the replica key was disabled: %s", got)
	}
	if _, code := e.value(e.admin("us-west-2"), "app/b"); code != "DecryptionFailure" {
		t.Errorf("reading a replica under a disabled key: %q, want DecryptionFailure", code)
	}
	if _, err := westKMS.EnableKey(e.ctx, &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.value(e.admin("us-west-2"), "app/b"); v != "v1-0123456789" {
		t.Errorf("the failed replica reads %q, want its last replicated value", v)
	}

	// A forced replication under a key that fails leaves the secret it
	// would have replaced.
	if _, err := e.admin("us-west-2").CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/c"), SecretString: aws.String("west-0123456789")}); err != nil {
		t.Fatal(err)
	}
	c, disabled := create("app/c"), newKey()
	if _, err := westKMS.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	out, err := east.ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String(c), ForceOverwriteReplicaSecret: true,
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(disabled)}}})
	if err != nil || out.ReplicationStatus[0].Status != smtypes.StatusTypeFailed {
		t.Errorf("forced replication under a disabled key: %v %v", out, err)
	}
	if v, _ := e.value(e.admin("us-west-2"), "app/c"); v != "west-0123456789" {
		t.Errorf("the secret a failed forced replication would have replaced reads %q", v)
	}
}

// TestReplicationKeyPermissions: replicating under customer managed keys
// takes the caller's kms:Decrypt on the primary's key and
// kms:GenerateDataKey and kms:Encrypt on the replica's key, in its region
// (API reference, ReplicateSecretToRegions); without any of them the
// replica fails and does not exist.
func TestReplicationKeyPermissions(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	id, secret := e.env.Server.AdminCredentials()
	key := func(region string) string {
		k, err := kms.NewFromConfig(sandboxtest.Config(e.env.URL, region, staticCreds(id, secret, ""))).CreateKey(e.ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(k.KeyMetadata.Arn)
	}
	eastKey, westKey := key("us-east-1"), key("us-west-2")
	grant := func(actions, resource string) string {
		return `{"Effect":"Allow","Action":` + actions + `,"Resource":"` + resource + `"}`
	}
	replicate := grant(`"secretsmanager:ReplicateSecretToRegions"`, "*")
	tests := []struct {
		name, policy string
		want         smtypes.StatusType
	}{
		{"all three", allow(replicate, grant(`"kms:Decrypt"`, eastKey), grant(`["kms:GenerateDataKey","kms:Encrypt"]`, westKey)), smtypes.StatusTypeInSync},
		{"no kms:Encrypt on the replica's key", allow(replicate, grant(`"kms:Decrypt"`, eastKey), grant(`"kms:GenerateDataKey"`, westKey)), smtypes.StatusTypeFailed},
		{"no kms:GenerateDataKey on the replica's key", allow(replicate, grant(`"kms:Decrypt"`, eastKey), grant(`"kms:Encrypt"`, westKey)), smtypes.StatusTypeFailed},
		{"no kms:Decrypt on the primary's key", allow(replicate, grant(`["kms:GenerateDataKey","kms:Encrypt"]`, westKey)), smtypes.StatusTypeFailed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("app/k%d", i)
			out, err := e.admin("us-east-1").CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String(name), KmsKeyId: aws.String(eastKey), SecretString: aws.String("v1-0123456789")})
			if err != nil {
				t.Fatal(err)
			}
			caller := e.role(fmt.Sprintf("replicator-%d", i), tt.policy)
			r, err := caller("us-east-1").ReplicateSecretToRegions(e.ctx, &sm.ReplicateSecretToRegionsInput{SecretId: out.ARN,
				AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westKey)}}})
			if err != nil {
				t.Fatal(err)
			}
			if st := r.ReplicationStatus[0]; st.Status != tt.want {
				t.Errorf("replica %s %q, want %s", st.Status, aws.ToString(st.StatusMessage), tt.want)
			}
			_, code := e.value(e.admin("us-west-2"), name)
			if exists := code != "ResourceNotFoundException"; exists != (tt.want == smtypes.StatusTypeInSync) {
				t.Errorf("replica exists = %v (%q), want it only when InSync", exists, code)
			}
		})
	}
}

// TestRefusedWriteDoesNotReplicate: a write the primary refuses changes
// nothing, so it does not replicate either: a replica whose key has been
// disabled stays InSync until a write succeeds.
func TestRefusedWriteDoesNotReplicate(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	east := e.admin("us-east-1")
	id, secret := e.env.Server.AdminCredentials()
	westKMS := kms.NewFromConfig(sandboxtest.Config(e.env.URL, "us-west-2", staticCreds(id, secret, "")))
	k, err := westKMS.CreateKey(e.ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := east.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/r"), SecretString: aws.String("v1-0123456789"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: k.KeyMetadata.Arn}}})
	if err != nil || statuses(out.ReplicationStatus) != "us-west-2=InSync" {
		t.Fatalf("creating: %v %v", out, err)
	}
	if _, err := westKMS.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: k.KeyMetadata.Arn}); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		d, err := east.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
		if err != nil {
			t.Fatal(err)
		}
		return statuses(d.ReplicationStatus)
	}
	refused := []func() error{
		func() error {
			_, err := east.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: out.ARN, Description: aws.String(strings.Repeat("d", 2049))})
			return err
		},
		func() error {
			_, err := east.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String("v2-0123456789"), VersionStages: []string{""}})
			return err
		},
		func() error {
			_, err := east.TagResource(e.ctx, &sm.TagResourceInput{SecretId: out.ARN, Tags: []smtypes.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}})
			return err
		},
	}
	for i, write := range refused {
		if err := write(); err == nil {
			t.Fatalf("write %d was not refused", i)
		}
		if got := status(); got != "us-west-2=InSync" {
			t.Errorf("after refused write %d: %s, want the replica untouched", i, got)
		}
	}
	if _, err := east.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String("v2-0123456789")}); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != "us-west-2=Failed" {
		t.Errorf("after a write under the disabled replica key: %s, want Failed", got)
	}
}

// TestReplicationPermissions: creating a secret with replicas takes
// secretsmanager:ReplicateSecretToRegions besides CreateSecret, as the API
// reference requires; removing and promoting take their own actions, on
// the primary's and the replica's ARN.
func TestReplicationPermissions(t *testing.T) {
	e := startRegions(t, sandbox.Options{})
	createOnly := e.role("create-only", allow(`{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*"}`))
	withReplicas := e.role("with-replicas", allow(`{"Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:ReplicateSecretToRegions"],"Resource":"*"}`))
	in := func(name string) *sm.CreateSecretInput {
		return &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v-0123456789"),
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}
	}
	if _, err := createOnly("us-east-1").CreateSecret(e.ctx, in("app/p")); err == nil {
		t.Error("CreateSecret with replicas succeeded without ReplicateSecretToRegions")
	}
	if _, code := e.value(e.admin("us-east-1"), "app/p"); code != "ResourceNotFoundException" {
		t.Errorf("a refused CreateSecret left a secret: %q", code)
	}
	out, err := withReplicas("us-east-1").CreateSecret(e.ctx, in("app/q"))
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	remover := e.role("remover", allow(`{"Effect":"Allow","Action":"secretsmanager:RemoveRegionsFromReplication","Resource":"`+inRegion(arn, "us-west-2")+`"}`))
	if _, err := remover("us-east-1").RemoveRegionsFromReplication(e.ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String(arn), RemoveReplicaRegions: []string{"us-west-2"}}); err == nil {
		t.Error("RemoveRegionsFromReplication allowed by a grant on the replica's ARN, not the primary's")
	}
	promoter := e.role("promoter", allow(`{"Effect":"Allow","Action":"secretsmanager:StopReplicationToReplica","Resource":"`+inRegion(arn, "us-west-2")+`"}`))
	if _, err := promoter("us-west-2").StopReplicationToReplica(e.ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String("app/q")}); err != nil {
		t.Errorf("promoting with a grant on the replica's ARN: %v", err)
	}
}

// TestBoto3Replication: botocore, signing for each region itself, creates
// a replicated secret, reads the replica in its region and gets the
// replica's refusal of a write.
func TestBoto3Replication(t *testing.T) {
	t.Parallel()
	got := runBoto3With(t, sandbox.Options{Regions: []string{"us-west-2"}}, `
import boto3, json, os
from botocore.exceptions import ClientError
east = boto3.client("secretsmanager", endpoint_url=os.environ["SANDBOX_URL"], region_name="us-east-1")
west = boto3.client("secretsmanager", endpoint_url=os.environ["SANDBOX_URL"], region_name="us-west-2")
c = east.create_secret(Name="py/rep", SecretString="alpha-0123456789", AddReplicaRegions=[{"Region": "us-west-2"}])
v = west.get_secret_value(SecretId="py/rep")
d = west.describe_secret(SecretId="py/rep")
try:
    west.put_secret_value(SecretId="py/rep", SecretString="beta-0123456789")
    err = None
except ClientError as e:
    err = e.response["Error"]["Code"]
print(json.dumps({"status": [s["Status"] for s in c["ReplicationStatus"]], "value": v["SecretString"],
    "arn_region": v["ARN"].split(":")[3], "primary": d["PrimaryRegion"], "error": err}))
`)
	want := map[string]any{"status": []any{"InSync"}, "value": "alpha-0123456789", "arn_region": "us-west-2", "primary": "us-east-1", "error": "InvalidParameterException"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boto3 replication (-want +got):\n%s", diff)
	}
}
