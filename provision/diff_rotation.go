package provision

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// Rotation declared in the spec (spec.Rotation). Apply turns it on with
// RotateSecret, changes its function or schedule with RotateSecret, and
// turns it off with CancelRotateSecret when the block goes. TagRotation
// records on the secret that the rotation is the spec's: a rotation the
// spec never declared (enabled outside secretboot) is left alone, as
// value_owner describes.
//
// The rotator owns the rotating fields (Rotation.Fields, or the whole
// value), so plan never reports its versions as drift nor restores them:
// a version id secretboot cannot authenticate is the rotator's. The
// declared fields stay secretboot's: the declaration's version token
// (tokens.go) among the secret's versions — labelled, or in the history
// that readHistory reads once the rotator has taken the labels off it
// — says the declaration is written; otherwise apply writes it, reading
// the live value first and keeping the rotating fields, which are
// exactly the generated ones (PayloadChange.ReadsLive).

// TagRotation marks a secret whose rotation the spec declares.
const TagRotation = "secretboot:rotation"

// ObservedRotation is a secret's rotation configuration as ListSecrets
// reports it.
type ObservedRotation struct {
	LambdaARN              string
	AutomaticallyAfterDays int64
	Schedule               string // ScheduleExpression
	Window                 string // Duration
}

func observedRotation(e smtypes.SecretListEntry) *ObservedRotation {
	r := &ObservedRotation{LambdaARN: aws.ToString(e.RotationLambdaARN)}
	if rr := e.RotationRules; rr != nil {
		r.AutomaticallyAfterDays = aws.ToInt64(rr.AutomaticallyAfterDays)
		r.Schedule = aws.ToString(rr.ScheduleExpression)
		r.Window = aws.ToString(rr.Duration)
	}
	return r
}

// declaresFields reports whether secretboot keeps writing some of a
// rotated secret's value: the declared fields beside the rotating ones.
func declaresFields(s *spec.Secret) bool {
	return s.Rotation != nil && len(s.Rotation.Fields) > 0
}

// scheduleText is how a plan shows a schedule.
func scheduleText(days int64, expr, window string) string {
	s := expr
	if s == "" && days > 0 {
		s = strconv.FormatInt(days, 10) + " days"
	}
	if window != "" {
		s += ", window " + window
	}
	return s
}

func declaredSchedule(r *spec.Rotation) string {
	return scheduleText(int64(r.AutomaticallyAfterDays), r.Schedule, r.Window)
}

// sameSchedule compares the declared schedule with the live one. AWS
// reports AutomaticallyAfterDays computed from a ScheduleExpression too,
// so a declared expression is compared as an expression. A window is
// reported only when one was set (Duration); one the spec no longer
// declares differs, and RotateSecret, whose RotationRules replace the
// rules as a whole, resets it to AWS's default by leaving Duration out.
func sameSchedule(want *spec.Rotation, live *ObservedRotation) bool {
	if want.Window != live.Window {
		return false
	}
	if want.Schedule != "" {
		return want.Schedule == live.Schedule
	}
	days := int64(want.AutomaticallyAfterDays)
	return live.AutomaticallyAfterDays == days && (live.Schedule == "" || live.Schedule == fmt.Sprintf("rate(%d days)", days))
}

// rotationChange compares the declared rotation of s with the live one
// (os nil: the secret is created); nil when nothing changes.
func rotationChange(s *spec.Secret, os *ObservedSecret) *RotationChange {
	want := s.Rotation
	var live *ObservedRotation
	managed := false
	if os != nil {
		live, managed = os.Rotation, os.Tags[TagRotation] != ""
	}
	switch {
	case want == nil && (live == nil || !managed):
		return nil
	case want == nil:
		return &RotationChange{Op: RotationCancel,
			Function: &ValueChange{Old: live.LambdaARN},
			Schedule: &ValueChange{Old: scheduleText(live.AutomaticallyAfterDays, live.Schedule, live.Window)}}
	case live == nil:
		return &RotationChange{Op: RotationEnable, Fields: want.Fields, RotateImmediately: want.RotateImmediately,
			Function: &ValueChange{New: want.LambdaARN},
			Schedule: &ValueChange{New: declaredSchedule(want)}}
	}
	rc := &RotationChange{Op: RotationUpdate, Fields: want.Fields}
	if live.LambdaARN != want.LambdaARN {
		rc.Function = &ValueChange{Old: live.LambdaARN, New: want.LambdaARN}
	}
	if !sameSchedule(want, live) {
		rc.Schedule = &ValueChange{Old: scheduleText(live.AutomaticallyAfterDays, live.Schedule, live.Window), New: declaredSchedule(want)}
	}
	if rc.Function == nil && rc.Schedule == nil {
		return nil
	}
	return rc
}

// rotatedValueChange is the write a rotated secret's value needs, or nil.
// While the rotation is declared: the declared fields, when their
// declaration is not written yet (its version, any revision, is neither
// among the labelled versions nor in the history). When the spec's
// rotation is cancelled: the declaration with the rotator's last values
// of the generated fields kept, unless secretboot's version is still
// current, so that secretboot keeps the value from there on instead of
// moving AWSCURRENT back to a version from before the rotations. Either
// write reads the live value first to keep the generated (rotating)
// fields. Without a stage key or a value there is nothing to know it by.
func (df *differ) rotatedValueChange(s *spec.Secret, os *ObservedSecret, gen int, cancel bool) *PayloadChange {
	key := df.o.stageKey.Reveal()
	if !declaresFields(s) && !cancel || len(key) == 0 || os.Current == "" || os.Deleted {
		return nil
	}
	dv := findDeclared(key, df.d, s, gen, os)
	if dv.current || !cancel && dv.target != "" {
		return nil
	}
	pc := payloadChange(s, PayloadChangedInSpec, nil)
	pc.Version = revisionToken(key, df.d, s, gen, min(dv.next, maxRevisions-1))
	pc.CurrentBySecretboot = writtenBySecretboot(key, s.Name, os.Current)
	pc.ReadsLive = keepsGenerated(s, nil)
	return pc
}
