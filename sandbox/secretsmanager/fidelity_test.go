package secretsmanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"
)

// Behaviours recorded on AWS by localstack's snapshot tests
// (tests/aws/services/secretsmanager/test_secretsmanager.snapshot.json, whose
// tests run against AWS) and by the API reference; each test names its
// source.

// TestInvalidNameEveryOperation: a name with characters outside
// [A-Za-z0-9/_+=.@-] is a ValidationException on every operation, before any
// lookup (snapshot test_invalid_secret_name, ex_log_1 to ex_log_10).
func TestInvalidNameEveryOperation(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	bad := aws.String(" Inv*Name? ")
	calls := map[string]func() error{
		"CreateSecret": func() error {
			_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: bad, SecretString: aws.String("v")})
			return err
		},
		"DeleteSecret": func() error {
			_, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: bad, ForceDeleteWithoutRecovery: aws.Bool(true)})
			return err
		},
		"DescribeSecret": func() error { _, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: bad}); return err },
		"GetSecretValue": func() error { _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: bad}); return err },
		"ListSecretVersionIds": func() error {
			_, err := c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: bad})
			return err
		},
		"PutSecretValue": func() error {
			_, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: bad, SecretString: aws.String("v")})
			return err
		},
		"TagResource": func() error {
			_, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: bad, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		},
		"UntagResource": func() error {
			_, err := c.UntagResource(ctx, &sm.UntagResourceInput{SecretId: bad, TagKeys: []string{"k"}})
			return err
		},
		"UpdateSecret": func() error {
			_, err := c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: bad, Description: aws.String("d")})
			return err
		},
		"ValidateResourcePolicy": func() error {
			_, err := c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{SecretId: bad, ResourcePolicy: aws.String(privatePolicy)})
			return err
		},
	}
	for op, call := range calls {
		if got := code(t, call()); got != "ValidationException" {
			t.Errorf("%s: code = %q, want ValidationException", op, got)
		}
	}
}

// TestPlainPutAfterPendingPromoted: after AWSCURRENT moves onto the
// AWSPENDING version, a plain PutSecretValue leaves that version
// [AWSPREVIOUS] only and the first version unlabelled (snapshot
// test_update_secret_version_stages_current_pending).
func TestPlainPutAfterPendingPromoted(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	v1 := *create(t, c, "s", "S1").VersionId
	p, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("S2"), VersionStages: []string{"AWSPENDING"}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := *p.VersionId
	if _, err := c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &v2, RemoveFromVersionId: &v1,
	}); err != nil {
		t.Fatal(err)
	}
	p, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("S3")})
	if err != nil {
		t.Fatal(err)
	}
	v3 := *p.VersionId
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}
	if diff := cmp.Diff(want, d.VersionIdsToStages); diff != "" {
		t.Errorf("VersionIdsToStages (-want +got):\n%s", diff)
	}
}

// TestTagsEmptyAfterLastRemoved: DescribeSecret omits Tags for a secret
// never tagged and answers Tags: [] once the last tag is removed (snapshot
// test_secret_tags, describe_secret and describe_secret_4).
func TestTagsEmptyAfterLastRemoved(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "v")
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Tags != nil {
		t.Errorf("never tagged: Tags = %v, want absent", d.Tags)
	}
	if _, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("s"), TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	if d, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if d.Tags == nil || len(d.Tags) != 0 {
		t.Errorf("after the last untag: Tags = %#v, want []", d.Tags)
	}
}

// TestKmsKeyIds: every ListSecretVersionIds entry names its key,
// "DefaultEncryptionKey" for the AWS managed key (snapshot
// test_deprecated_secret_version_stage; SecretVersionsListEntry.KmsKeyIds in
// the API model).
func TestKmsKeyIds(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "v")
	if _, err := c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String(testKey), SecretString: aws.String("w")}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	// Both versions may share a creation instant, so the listing order is
	// not what this test is about: key each entry by its staging label.
	got := map[string][]string{}
	for _, v := range l.Versions {
		got[strings.Join(v.VersionStages, ",")] = v.KmsKeyIds
	}
	// The previous version was re-encrypted under the new key and keeps
	// its old one ("Change the encryption key", Secrets Manager user
	// guide): KmsKeyIds, "the KMS keys used to encrypt the secret
	// version", lists both.
	want := map[string][]string{"AWSCURRENT": {testKey}, "AWSPREVIOUS": {"DefaultEncryptionKey", testKey}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KmsKeyIds (-want +got):\n%s", diff)
	}
}

// TestForceDeleteUnknown: a forced delete of a secret that does not exist
// succeeds, so a cleanup can run twice; without force it is
// ResourceNotFoundException (DeleteSecret, API reference; moto does the same).
func TestForceDeleteUnknown(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	out, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("never"), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil {
		t.Fatalf("forced delete of an unknown secret: %v", err)
	}
	if aws.ToString(out.Name) != "never" || out.DeletionDate == nil {
		t.Errorf("answer = name %q, deletion date %v", aws.ToString(out.Name), out.DeletionDate)
	}
	_, err = c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("never")})
	if got := code(t, err); got != "ResourceNotFoundException" {
		t.Errorf("unforced: code = %q, want ResourceNotFoundException", got)
	}
}

const privatePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/r"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`

// TestValidateResourcePolicy: the answer is PolicyValidationPassed plus
// ValidationErrors; a syntax error is MalformedPolicyDocumentException and
// an unknown SecretId ResourceNotFoundException (ValidateResourcePolicy, API
// reference: response elements and errors).
func TestValidateResourcePolicy(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "v")
	ok, err := c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String(privatePolicy)})
	if err != nil || !ok.PolicyValidationPassed || len(ok.ValidationErrors) != 0 {
		t.Errorf("narrow policy: %+v, %v; want passed, no errors", ok, err)
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	pub, err := c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{ResourcePolicy: aws.String(public)})
	if err != nil || pub.PolicyValidationPassed || len(pub.ValidationErrors) != 1 {
		t.Errorf("public policy: %+v, %v; want not passed, one error", pub, err)
	}
	_, err = c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{ResourcePolicy: aws.String(`{"Statement":`)})
	if got := code(t, err); got != "MalformedPolicyDocumentException" {
		t.Errorf("syntax error: code = %q", got)
	}
	_, err = c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{SecretId: aws.String("nope"), ResourcePolicy: aws.String(privatePolicy)})
	if got := code(t, err); got != "ResourceNotFoundException" {
		t.Errorf("unknown secret: code = %q", got)
	}
}
