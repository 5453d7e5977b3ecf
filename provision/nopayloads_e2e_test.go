package provision_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/provision"
)

// TestPlanWithoutPayloads: a stage evaluated without its payload sources
// and observed without the stage key plans its structure only. A payload
// changed outside secretboot is not reported (nothing was compared), a
// structural change is, no secret value is read, and the plan cannot be
// applied.
func TestPlanWithoutPayloads(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		s := b.mustConnect(t)
		stage := uniqueStage("nopay")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		if _, err := s.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(stage + "/app/stripe"), SecretString: aws.String("changed-outside-0123456789"),
		}); err != nil {
			t.Fatal(err)
		}

		review := testDesired(stage, b.account, canary)
		review.PayloadsSkipped = true
		review.Secrets[0].Description = "a new description"
		before := s.CallStats()
		o, err := provision.ObserveStructure(ctx, s, review)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range s.CallStats().Since(before).Ops {
			if op.Operation == "GetSecretValue" {
				t.Errorf("a plan without payloads read %d secret value(s)", op.Calls)
			}
		}
		p, err := provision.Diff(review, o, provision.DiffOptions{NoPayloads: true})
		if err != nil {
			t.Fatal(err)
		}
		if !p.PayloadsNotCompared {
			t.Error("the plan does not say its payloads were not compared")
		}
		if got := summary(p); len(got) != 1 || got[0] != "update secret:"+review.Secrets[0].Name {
			t.Errorf("plan without payloads: %v, want only the description change of %s", got, review.Secrets[0].Name)
		}
		if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{}); !errors.Is(err, provision.ErrPlanWithoutPayloads) {
			t.Errorf("applying a plan without payloads: %v, want ErrPlanWithoutPayloads", err)
		}

		// The same stage with its payloads sees the outside change: the declared
		// version lost AWSCURRENT and is moved back.
		full := plan(t, s, d, provision.DiffOptions{})
		if got := summary(full); len(got) != 1 || got[0] != "update secret:"+stage+"/app/stripe [restore-stage]" {
			t.Errorf("plan with payloads: %v, want the outside change", got)
		}
	})
}
