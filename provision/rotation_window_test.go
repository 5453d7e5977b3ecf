package provision_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// TestRotationWindowRemoved: a window removed from the rotation block is
// reset on AWS (RotateSecret with rules without Duration, which replace
// the old ones), and plan is clean afterwards.
func TestRotationWindowRemoved(t *testing.T) {
	ctx := context.Background()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	s := sandboxBackend(env).mustConnect(t)
	d := rotatedDesired("dev", "db.internal")
	converge(t, s, d, provision.DiffOptions{})
	db := d.Secrets[0].Name

	d.Secrets[0].Rotation.Window = ""
	p := plan(t, s, d, provision.DiffOptions{})
	var rc *provision.RotationChange
	for _, c := range p.Changes {
		if c.Name == db && c.Secret != nil {
			rc = c.Secret.Rotation
		}
	}
	if rc == nil || rc.Op != provision.RotationUpdate || rc.Schedule == nil || rc.Schedule.Old != "rate(30 days), window 4h" || rc.Schedule.New != "rate(30 days)" {
		t.Fatalf("plan without the window: rotation %+v\n%s", rc, textOf(t, p))
	}
	apply(t, s, p, d)
	out, err := s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(db)})
	if err != nil {
		t.Fatal(err)
	}
	if out.RotationRules == nil || out.RotationRules.Duration != nil || aws.ToString(out.RotationRules.ScheduleExpression) != "rate(30 days)" {
		t.Fatalf("rules after removing the window: %+v", out.RotationRules)
	}
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Fatalf("plan after resetting the window:\n%s", textOf(t, p))
	}
}
