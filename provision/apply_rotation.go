package provision

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// rotate applies a secret's rotation change (diff_rotation.go): RotateSecret
// to turn rotation on or change its function or schedule, rotating at once
// only when it is turned on with rotate_immediately; CancelRotateSecret to
// turn it off. A cancel runs before the secret's tags change and the
// others after its value is written: TagRotation must not go while the
// rotation it records is still on, and a rotation that starts at once
// starts from the declared value.
func (a *applier) rotate(ctx context.Context, s *spec.Secret, arn string, rc *RotationChange) error {
	if rc == nil {
		return nil
	}
	sm := a.s.SecretsManager
	if rc.Op == RotationCancel {
		_, err := sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(arn)})
		return wrap(err, "cancelling the rotation of secret", s.Name)
	}
	r := s.Rotation
	rules := &smtypes.RotationRulesType{}
	if r.AutomaticallyAfterDays > 0 {
		rules.AutomaticallyAfterDays = aws.Int64(int64(r.AutomaticallyAfterDays))
	} else {
		rules.ScheduleExpression = aws.String(r.Schedule)
	}
	if r.Window != "" {
		rules.Duration = aws.String(r.Window)
	}
	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:          aws.String(arn),
		RotationLambdaARN: aws.String(r.LambdaARN),
		RotationRules:     rules,
		RotateImmediately: aws.Bool(rc.Op == RotationEnable && r.RotateImmediately),
	})
	return wrap(err, "configuring the rotation of secret", s.Name)
}

// markRotated gives a secret just created whose value a rotator keeps its
// mark (TagMark; see markNeeded), which needs the ARN CreateSecret
// returned: rotations soon outnumber the versions secretboot wrote, and
// the mark keeps proving the secret is the stage's, from the first apply.
func (a *applier) markRotated(ctx context.Context, s *spec.Secret, arn string) error {
	key := a.sealedKey().Reveal()
	if s.ValueOwner != spec.ValueOwnerRotation || len(key) == 0 || arn == "" {
		return nil
	}
	return a.retagSecret(ctx, s.Name, aws.String(arn), []TagChange{{Key: TagMark, New: ownerMark(key, a.d, s.Name, arn)}})
}
