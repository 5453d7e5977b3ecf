package secretsmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// The built-in test rotator. The sandbox invokes no Lambda function, but a
// rotation whose function is named TestRotatorName is played by the
// sandbox itself, through the same operations a rotation function calls,
// so that rotation can be exercised end to end: on RotateSecret with
// RotateImmediately (AWS's default), when the schedule comes due (checked
// at each request, against Config.Now), and on RotateNow. It runs the four
// steps of AWS's rotation function template:
//
//   - createSecret: read AWSCURRENT, draw a password (GetRandomPassword,
//     32 characters without /@"'\) and write it as the version named by
//     the rotation's token, labelled AWSPENDING: as the "password" field
//     of a JSON object value (the other fields kept), or as the whole
//     value of a string that is not a JSON object. A binary value, or an
//     object without a string "password", fails the rotation.
//   - setSecret: nothing; the test rotator has no database to update.
//   - testSecret: read the AWSPENDING version back.
//   - finishSecret: move AWSCURRENT to it (AWSPENDING stays on it until the
//     next rotation, as on AWS), which records LastRotatedDate.
//
// It acts with the rotation service's authority, not a role's: its calls
// are not authorized, and a customer key is used as the secret names it.
// A failed rotation leaves its AWSPENDING version, which blocks the next
// one until it is removed, as on AWS. A schedule of days (AutomaticallyAfterDays
// or rate(n days)) comes due at midnight UTC n days after the last rotation
// (or after rotation was enabled), a rate in hours n hours after it on the
// hour, a cron() schedule at the first time it names after it (the start
// of the rotation window: AWS rotates at some moment within the window,
// the sandbox at its start). A cron() schedule using L or # is recorded
// but never comes due, and its secret has no NextRotationDate.
//
// RotationRules replace the secret's rules as a whole, as on AWS: rules
// without Duration remove a window set before (the window then closes
// after an hour for a schedule in hours, at the end of the UTC day for
// one in days, AWS's defaults), while a RotateSecret without RotationRules
// keeps the rules it had.

// TestRotatorName is the function name of the built-in test rotator:
// RotationLambdaARN arn:aws:lambda:<region>:<account>:function:secretboot-sandbox-rotator.
const TestRotatorName = "secretboot-sandbox-rotator"

// TestRotatorARN is the test rotator's function ARN for a sandbox of
// region and account.
func TestRotatorARN(region, account string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, TestRotatorName)
}

// next is when the rotation is next due (rotationrules.Schedule.Next);
// zero when it is disabled or its schedule is one the sandbox does not
// compute.
func (r *rotation) next() time.Time {
	if r == nil || !r.Enabled {
		return time.Time{}
	}
	base := r.LastRotated
	if base.IsZero() {
		base = r.Since
	}
	if base.IsZero() {
		return time.Time{}
	}
	return r.schedule.Next(base)
}

// rotatesItself reports whether the test rotator keeps sec's rotation.
func (s *Service) rotatesItself(sec *secret) bool {
	return sec.PrimaryRegion == "" && sec.Rotation != nil && sec.Rotation.Enabled && sec.Rotation.LambdaARN == TestRotatorARN(s.cfg.Region, s.cfg.Account)
}

// scheduleRotation notes that a test rotation comes due at t.
func (s *Service) scheduleRotation(t time.Time) {
	if !t.IsZero() && (s.nextRotation.IsZero() || t.Before(s.nextRotation)) {
		s.nextRotation = t
	}
}

// rotateDue runs the test rotations that have come due. Like
// purgeExpired it scans only when one may have.
func (s *Service) rotateDue() {
	now := s.cfg.Now()
	if s.nextRotation.IsZero() || now.Before(s.nextRotation) {
		return
	}
	s.nextRotation = time.Time{}
	arns := make([]string, 0, len(s.byARN))
	for arn, sec := range s.byARN {
		if s.rotatesItself(sec) {
			arns = append(arns, arn)
		}
	}
	sort.Strings(arns) // a seeded Config.Rand draws the same values run after run
	for _, arn := range arns {
		sec := s.byARN[arn]
		if due := sec.Rotation.next(); !due.After(now) && !sec.scheduled() && sec.pending() == nil {
			if id, err := s.newVersionID(); err == nil {
				_ = s.runTestRotator(sec, id) // a failure leaves AWSPENDING behind, as on AWS
			}
		}
		if due := sec.Rotation.next(); due.After(now) {
			s.scheduleRotation(due)
		}
	}
}

// RotateNow runs the test rotator on the secret id (name or ARN) at once,
// whatever its schedule: a test hook standing for a rotation coming due.
func (s *Service) RotateNow(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.each((*Service).record)
	sec := s.lookup(id)
	switch {
	case sec == nil:
		return fmt.Errorf("rotate now: no secret %s", id)
	case !s.rotatesItself(sec):
		return fmt.Errorf("rotate now: %s is not rotated by %s", id, TestRotatorName)
	case sec.pending() != nil:
		return fmt.Errorf("rotate now: a previous rotation of %s is not complete", id)
	}
	token, apiErr := s.newVersionID()
	if apiErr == nil {
		apiErr = s.runTestRotator(sec, token)
	}
	s.touch(sec)
	s.replicate()
	s.each((*Service).record)
	if apiErr != nil {
		return fmt.Errorf("rotate now: %s: %s", apiErr.Code, apiErr.Message)
	}
	return nil
}

// runTestRotator plays the rotation function's four steps for token.
func (s *Service) runTestRotator(sec *secret, token string) *apiError {
	useKey := s.useKey
	s.useKey = nil
	defer func() { s.useKey = useKey }()
	arn := new(sec.ARN)

	// createSecret
	cur, err := s.readValue(sec, nil, nil)
	if err != nil {
		return err
	}
	if sec.version(token) == nil {
		if cur.SecretString == nil {
			return invalidRequest("The test rotator rotates string values only.")
		}
		out, err := s.getRandomPassword(&getRandomPasswordInput{ExcludeCharacters: new(`/@"'\`)}, nil)
		if err != nil {
			return err
		}
		next, err := rotatedValue(*cur.SecretString, out.(getRandomPasswordOutput).RandomPassword)
		if err != nil {
			return err
		}
		if _, err := s.putSecretValue(&putSecretValueInput{SecretId: arn, ClientRequestToken: &token,
			SecretString: &next, VersionStages: []string{stagePending}}, nil); err != nil {
			return err
		}
	}
	// setSecret: no database to set the password in.
	// testSecret
	if _, err := s.readValue(sec, &token, new(stagePending)); err != nil {
		return err
	}
	// finishSecret
	if cur.VersionId == token {
		return nil
	}
	_, err = s.updateSecretVersionStage(&updateSecretVersionStageInput{SecretId: arn, VersionStage: new(stageCurrent),
		MoveToVersionId: &token, RemoveFromVersionId: &cur.VersionId}, nil)
	return err
}

// rotatedValue replaces the "password" field of a JSON object value, or
// the whole of any other string value, with password.
func rotatedValue(current, password string) (string, *apiError) {
	dec := json.NewDecoder(bytes.NewReader([]byte(current)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || dec.More() || obj == nil {
		return password, nil
	}
	if _, ok := obj["password"].(string); !ok {
		return "", invalidRequest("The test rotator rotates the string field \"password\" of a JSON object, and this object has none.")
	}
	obj["password"] = password
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return "", invalidRequest("The test rotator could not encode the new value.")
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
