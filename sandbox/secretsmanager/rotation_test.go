package secretsmanager_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestRotation plays a rotation function against the sandbox: RotateSecret
// records the configuration and names the new version's id; the function
// writes the AWSPENDING version and moves AWSCURRENT to it; a second
// rotation waits for the first to finish; CancelRotateSecret turns
// rotation off.
func TestRotation(t *testing.T) {
	c, clock := newClient(t)
	ctx := context.Background()
	out := create(t, c, "dev/rotated", "v1")
	const lambda = "arn:aws:lambda:us-east-1:111111111111:function:rotate"

	if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN}); code(t, err) != "InvalidRequestException" {
		t.Errorf("rotation without a function: %v", err)
	}
	if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(lambda),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(0)}}); code(t, err) != "InvalidParameterException" {
		t.Errorf("rotation every 0 days: %v", err)
	}
	rot, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(lambda),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(rot.VersionId)
	if len(token) < 32 {
		t.Fatalf("RotateSecret answered version id %q", token)
	}
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != lambda || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || d.LastRotatedDate != nil {
		t.Errorf("rotation metadata after RotateSecret: %+v", d)
	}

	// The function's createSecret step.
	if _, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: out.ARN, ClientRequestToken: aws.String(token),
		SecretString: aws.String("v2"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN}); code(t, err) != "InvalidRequestException" {
		t.Errorf("a second rotation while the first is unfinished: %v", err)
	}
	// The function's finishSecret step.
	clock.Advance(time.Hour)
	if _, err := c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: out.ARN, VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: aws.String(token), RemoveFromVersionId: out.VersionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: out.ARN, VersionStage: aws.String("AWSPENDING"),
		RemoveFromVersionId: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: out.ARN})
	if err != nil || aws.ToString(v.SecretString) != "v2" {
		t.Fatalf("value after rotation: %v", err)
	}
	list, err := c.ListSecrets(ctx, &sm.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if e := list.SecretList[0]; !aws.ToBool(e.RotationEnabled) || e.LastRotatedDate == nil || !e.LastRotatedDate.Equal(t0.Add(time.Hour)) {
		t.Errorf("ListSecrets rotation metadata: %+v", e)
	}

	// A second rotation may start now; cancelling it reports the
	// unfinished version and leaves its label.
	rot2, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: out.ARN, ClientRequestToken: rot2.VersionId,
		SecretString: aws.String("v3"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	cancel, err := c.CancelRotateSecret(ctx, &sm.CancelRotateSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cancel.VersionId) != aws.ToString(rot2.VersionId) {
		t.Errorf("CancelRotateSecret answered %q, want the pending version", aws.ToString(cancel.VersionId))
	}
	d, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(d.RotationEnabled) || len(d.VersionIdsToStages[aws.ToString(rot2.VersionId)]) != 1 {
		t.Errorf("after CancelRotateSecret: enabled %v, stages %v", aws.ToBool(d.RotationEnabled), d.VersionIdsToStages)
	}
}
