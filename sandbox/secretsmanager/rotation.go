package secretsmanager

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/secretboot/secretboot/internal/rotationrules"
)

// Rotation. AWS rotates a secret by invoking its rotation function with a
// ClientRequestToken; the function makes the new value a version with
// that id labelled AWSPENDING (PutSecretValue with VersionStages
// ["AWSPENDING"]), tests it, and moves AWSCURRENT to it
// (UpdateSecretVersionStage). The sandbox invokes no function: a test
// plays it with those ordinary calls after RotateSecret, and the sandbox
// keeps the metadata (RotationEnabled, the function's ARN, the rules,
// LastRotatedDate) and refuses a rotation while the previous one is
// unfinished, as AWS does. The sandbox does play a function named
// TestRotatorName itself (testrotator.go).

const stagePending = "AWSPENDING"

// rotation is a secret's rotation configuration.
type rotation struct {
	Enabled     bool
	LambdaARN   string         `json:",omitempty"`
	Rules       *rotationRules `json:",omitempty"`
	LastRotated time.Time      `json:",omitzero"`
	Since       time.Time      `json:",omitzero"` // when rotation was last enabled: a schedule's start before the first rotation

	// schedule is Rules' schedule, parsed when RotateSecret takes them or
	// a state is restored, not at each next().
	schedule rotationrules.Schedule
}

// UnmarshalJSON restores a rotation from a saved state with its schedule
// parsed. Rules a state saved before a stricter rule holds, which
// rotationrules now refuses, are kept but never come due.
func (r *rotation) UnmarshalJSON(b []byte) error {
	type fields rotation // without this method
	if err := json.Unmarshal(b, (*fields)(r)); err != nil {
		return err
	}
	r.schedule, _ = r.Rules.schedule()
	return nil
}

type rotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

// rotationOut is the rotation part of DescribeSecret's and ListSecrets'
// answers.
type rotationOut struct {
	RotationEnabled   *bool          `json:"RotationEnabled,omitempty"`
	RotationLambdaARN string         `json:"RotationLambdaARN,omitempty"`
	RotationRules     *rotationRules `json:"RotationRules,omitempty"`
	LastRotatedDate   *epoch         `json:"LastRotatedDate,omitempty"`
	NextRotationDate  *epoch         `json:"NextRotationDate,omitempty"`
}

func (s *secret) rotationOut() rotationOut {
	if s.Rotation == nil {
		return rotationOut{}
	}
	r := s.Rotation
	return rotationOut{RotationEnabled: new(r.Enabled), RotationLambdaARN: r.LambdaARN, RotationRules: r.Rules, LastRotatedDate: at(r.LastRotated), NextRotationDate: at(r.next())}
}

// pending is the version of an unfinished rotation: AWSPENDING on a
// version that is not AWSCURRENT.
func (s *secret) pending() *version {
	v := s.staged(stagePending)
	if v == nil || slices.Contains(v.Stages, stageCurrent) {
		return nil
	}
	return v
}

// finishRotation records a rotation's end: AWSCURRENT moved to the version
// labelled AWSPENDING.
func (s *secret) finishRotation(to *version, now time.Time) {
	if s.Rotation != nil && slices.Contains(to.Stages, stagePending) {
		s.Rotation.LastRotated = now
	}
}

type rotateSecretInput struct {
	SecretId           *string
	ClientRequestToken *string
	RotationLambdaARN  *string
	RotationRules      *rotationRules
	RotateImmediately  *bool
}

type rotateSecretOutput struct {
	arnName
	VersionId string `json:"VersionId,omitempty"`
}

func (s *Service) rotateSecret(in *rotateSecretInput, az AuthorizeFunc) (any, *apiError) {
	// Unlike the value writes, AWS answers a raw RotateSecret without a
	// token with InvalidParameterException (recorded on AWS, localstack's
	// test_no_client_request_token snapshot).
	if in.ClientRequestToken == nil {
		return nil, invalidParam("You must provide a ClientRequestToken value. We recommend a UUID-type value.")
	}
	sec, err := s.target(in.SecretId, "RotateSecret", az)
	if err != nil {
		return nil, err
	}
	if err := validateToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	schedule, err := checkRules(in.RotationRules)
	if err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	lambda := deref(in.RotationLambdaARN)
	if lambda == "" && sec.Rotation != nil {
		lambda = sec.Rotation.LambdaARN
	}
	if lambda == "" {
		return nil, invalidRequest("No Lambda rotation function ARN is associated with this secret.")
	}
	if sec.pending() != nil {
		return nil, invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.")
	}
	rules := in.RotationRules
	if rules == nil && sec.Rotation != nil {
		rules, schedule = sec.Rotation.Rules, sec.Rotation.schedule
	}
	var last time.Time
	since := s.cfg.Now()
	if sec.Rotation != nil {
		last = sec.Rotation.LastRotated
		if sec.Rotation.Enabled {
			since = sec.Rotation.Since
		}
	}
	sec.Rotation = &rotation{Enabled: true, LambdaARN: lambda, Rules: rules, LastRotated: last, Since: since, schedule: schedule}
	sec.LastChanged = s.cfg.Now()
	out := rotateSecretOutput{arnName: arnName{sec.ARN, sec.Name}}
	if in.RotateImmediately == nil || *in.RotateImmediately {
		// The id the rotation function gives the new version.
		id := deref(in.ClientRequestToken)
		if id == "" {
			var err *apiError
			if id, err = s.newVersionID(); err != nil {
				return nil, err
			}
		}
		out.VersionId = id
		if s.rotatesItself(sec) {
			_ = s.runTestRotator(sec, id) // a failure leaves AWSPENDING behind, as on AWS
		}
	}
	if s.rotatesItself(sec) {
		s.scheduleRotation(sec.Rotation.next())
	}
	return out, nil
}

type cancelRotateSecretOutput struct {
	arnName
	VersionId string `json:"VersionId,omitempty"`
}

// cancelRotateSecret turns rotation off. Like AWS it leaves the labels of
// an unfinished rotation where they are: the caller removes AWSPENDING.
func (s *Service) cancelRotateSecret(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "CancelRotateSecret", az)
	if err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	out := cancelRotateSecretOutput{arnName: arnName{sec.ARN, sec.Name}}
	if v := sec.pending(); v != nil {
		out.VersionId = v.ID
	}
	if sec.Rotation != nil {
		sec.Rotation.Enabled = false
	}
	sec.LastChanged = s.cfg.Now()
	return out, nil
}
