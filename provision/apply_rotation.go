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
