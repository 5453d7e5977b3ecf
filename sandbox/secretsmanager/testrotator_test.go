package secretsmanager_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

var testRotator = secretsmanager.TestRotatorARN("us-east-1", "000000000000")

func rotatorEnv(t *testing.T) (*sm.Client, *sandbox.Server, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(t0)
	env := sandboxtest.Start(t, sandbox.Options{Now: c.Now})
	return sm.NewFromConfig(env.Config), env.Server, c
}

func current(t *testing.T, c *sm.Client, id *string) (string, string) {
	t.Helper()
	v, err := c.GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: id})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(v.VersionId), aws.ToString(v.SecretString)
}

func field(t *testing.T, value, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(value), &m); err != nil {
		t.Fatalf("value is not a JSON object: %v", err)
	}
	s, _ := m[name].(string)
	return s
}

// TestTestRotator: RotateSecret naming the test rotator rotates at once
// through AWSPENDING, keeping the other fields; the schedule comes due at
// midnight UTC and the next request rotates again; DescribeSecret and
// ListSecrets report the metadata; cancelling stops the schedule.
func TestTestRotator(t *testing.T) {
	c, srv, clock := rotatorEnv(t)
	ctx := context.Background()
	out := create(t, c, "dev/db", `{"password":"first-password","username":"app","port":5432}`)
	first := aws.ToString(out.VersionId)

	token := "00000000-0000-4000-8000-00000000000a"
	rot, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, ClientRequestToken: aws.String(token), RotationLambdaARN: aws.String(testRotator),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rot.VersionId) != token {
		t.Errorf("RotateSecret answered version %q, want the token", aws.ToString(rot.VersionId))
	}
	id, value := current(t, c, out.ARN)
	if id != token {
		t.Fatalf("AWSCURRENT is %s, want the rotation's version %s", id, token)
	}
	pw := field(t, value, "password")
	if pw == "first-password" || len(pw) != 32 || strings.ContainsAny(pw, `/@"'\`) {
		t.Errorf("rotated password %q", pw)
	}
	if field(t, value, "username") != "app" || !strings.Contains(value, `"port":5432`) {
		t.Errorf("the other fields changed: %s", value)
	}
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	wantStages := map[string][]string{token: {"AWSCURRENT", "AWSPENDING"}, first: {"AWSPREVIOUS"}}
	if diff := cmp.Diff(wantStages, d.VersionIdsToStages); diff != "" {
		t.Errorf("stages after the rotation (-want +got):\n%s", diff)
	}
	nextDue := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	if !aws.ToBool(d.RotationEnabled) || !d.LastRotatedDate.Equal(t0) || !d.NextRotationDate.Equal(nextDue) {
		t.Errorf("rotation metadata: enabled %v, last %v, next %v", aws.ToBool(d.RotationEnabled), d.LastRotatedDate, d.NextRotationDate)
	}

	// Not due yet: nothing happens.
	clock.Advance(nextDue.Sub(t0) - time.Minute)
	if id, _ := current(t, c, out.ARN); id != token {
		t.Fatalf("rotated before the schedule: %s", id)
	}
	// Due: the next request (any) runs it first.
	clock.Advance(2 * time.Minute)
	list, err := c.ListSecrets(ctx, &sm.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	e := list.SecretList[0]
	if !e.LastRotatedDate.Equal(clock.Now()) || !e.NextRotationDate.Equal(nextDue.AddDate(0, 0, 2)) {
		t.Errorf("ListSecrets after the scheduled rotation: last %v, next %v", e.LastRotatedDate, e.NextRotationDate)
	}
	id2, value2 := current(t, c, out.ARN)
	if id2 == token || field(t, value2, "password") == pw || field(t, value2, "username") != "app" {
		t.Errorf("the scheduled rotation did not rotate: %s", id2)
	}
	if stages := e.SecretVersionsToStages; len(stages[id2]) != 2 || len(stages[token]) != 1 || stages[first] != nil {
		t.Errorf("stages after the second rotation: %v", stages)
	}

	// The hook rotates at once.
	if err := srv.RotateNow("dev/db"); err != nil {
		t.Fatal(err)
	}
	if id3, _ := current(t, c, out.ARN); id3 == id2 {
		t.Error("RotateNow did not rotate")
	}

	if _, err := c.CancelRotateSecret(ctx, &sm.CancelRotateSecretInput{SecretId: out.ARN}); err != nil {
		t.Fatal(err)
	}
	id4, _ := current(t, c, out.ARN)
	clock.Advance(30 * 24 * time.Hour)
	d, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if id5, _ := current(t, c, out.ARN); id5 != id4 || d.NextRotationDate != nil {
		t.Errorf("rotation went on after CancelRotateSecret: version %s, next %v", id5, d.NextRotationDate)
	}
	if err := srv.RotateNow("dev/db"); err == nil {
		t.Error("RotateNow rotated a secret whose rotation is cancelled")
	}
}

// TestTestRotatorValues: a plain string is replaced whole; an object
// without a password and a binary value fail the rotation, leaving the
// value as it was; rotation not at once starts the schedule from now.
func TestTestRotatorValues(t *testing.T) {
	c, srv, _ := rotatorEnv(t)
	ctx := context.Background()
	enable := func(id *string, now bool) {
		t.Helper()
		if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: id, RotationLambdaARN: aws.String(testRotator), RotateImmediately: aws.Bool(now),
			RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(6 hours)"), Duration: aws.String("2h")}}); err != nil {
			t.Fatal(err)
		}
	}

	plain := create(t, c, "dev/plain", "not json at all")
	enable(plain.ARN, true)
	if _, v := current(t, c, plain.ARN); v == "not json at all" || len(v) != 32 {
		t.Errorf("plain value after rotation: %d characters", len(v))
	}

	later := create(t, c, "dev/later", `{"password":"first-password"}`)
	enable(later.ARN, false)
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: later.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := current(t, c, later.ARN); id != aws.ToString(later.VersionId) || d.LastRotatedDate != nil || !d.NextRotationDate.Equal(t0.Add(6*time.Hour)) {
		t.Errorf("RotateImmediately false: version %s, last %v, next %v", id, d.LastRotatedDate, d.NextRotationDate)
	}

	nopw := create(t, c, "dev/nopw", `{"token":"first-token"}`)
	enable(nopw.ARN, true)
	if id, _ := current(t, c, nopw.ARN); id != aws.ToString(nopw.VersionId) {
		t.Error("an object without password was rotated")
	}
	if err := srv.RotateNow("dev/nopw"); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("RotateNow of an object without password: %v", err)
	}
	bin, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("dev/bin"), SecretBinary: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	enable(bin.ARN, true)
	if err := srv.RotateNow("dev/bin"); err == nil {
		t.Error("RotateNow rotated a binary value")
	}
}

// TestRotationRules: the schedules AWS refuses.
func TestRotationRules(t *testing.T) {
	c, _, _ := rotatorEnv(t)
	ctx := context.Background()
	out := create(t, c, "dev/rules", "value")
	for _, rules := range []types.RotationRulesType{
		{ScheduleExpression: aws.String("rate(2 hours)")},
		{ScheduleExpression: aws.String("rate(1001 days)")},
		{ScheduleExpression: aws.String("every day")},
		{ScheduleExpression: aws.String("rate(1 day)"), AutomaticallyAfterDays: aws.Int64(1)},
		{AutomaticallyAfterDays: aws.Int64(30), Duration: aws.String("25h")},
		{AutomaticallyAfterDays: aws.Int64(30), Duration: aws.String("90m")},
		{AutomaticallyAfterDays: aws.Int64(30), Duration: aws.String("4h")}, // a window needs a schedule expression
		{Duration: aws.String("4h")},
		{ScheduleExpression: aws.String("rate(24 hours)")},
		{ScheduleExpression: aws.String("cron(0 4 ? * sun *)")},
		{ScheduleExpression: aws.String("cron(0 4 15W * ? *)")},
		{ScheduleExpression: aws.String("cron(0 4,16 * * ? *)")},
		{ScheduleExpression: aws.String("cron(0 4 * * ?  *)")},
	} {
		_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(testRotator), RotationRules: &rules})
		if code(t, err) != "InvalidParameterException" {
			t.Errorf("rules %+v: %v", rules, err)
		}
	}
	if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(testRotator), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("cron(0 4 ? * SUN *)"), Duration: aws.String("3h")}}); err != nil {
		t.Errorf("a cron schedule: %v", err)
	}
}

// TestTestRotatorRestored: a restored state keeps the schedule, and the
// rotation due comes at the first request after the restore.
func TestTestRotatorRestored(t *testing.T) {
	clock := fakeclock.New(t0)
	call := func(s *secretsmanager.Service, op, body string) string {
		t.Helper()
		w := httptest.NewRecorder()
		s.Serve(w, op, []byte(body), nil, nil, "req")
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", op, w.Code, w.Body)
		}
		return w.Body.String()
	}
	a := secretsmanager.New(secretsmanager.Config{Account: "000000000000", Region: "us-east-1", Now: clock.Now})
	call(a, "CreateSecret", `{"Name":"dev/db","SecretString":"first-value","ClientRequestToken":"00000000-0000-4000-8000-000000000001"}`)
	call(a, "RotateSecret", `{"SecretId":"dev/db","ClientRequestToken":"00000000-0000-4000-8000-000000000002","RotateImmediately":false,`+
		`"RotationLambdaARN":"`+testRotator+`","RotationRules":{"AutomaticallyAfterDays":1}}`)
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := secretsmanager.New(secretsmanager.Config{Account: "000000000000", Region: "us-east-1", Now: clock.Now})
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	if out := call(b, "DescribeSecret", `{"SecretId":"dev/db"}`); !strings.Contains(out, `"LastRotatedDate"`) {
		t.Errorf("no rotation after the restore: %s", out)
	}
}

// TestTestRotatorCron: a cron() schedule comes due at the times it names
// (t0 is Sunday 2026-03-01 12:00 UTC): NextRotationDate shows the next
// one, the first request after it rotates, and the schedule then moves on
// to the following one.
func TestTestRotatorCron(t *testing.T) {
	c, _, clock := rotatorEnv(t)
	ctx := context.Background()
	out := create(t, c, "dev/cron", "first-password")
	if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(testRotator), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("cron(0 4 ? * MON,THU *)"), Duration: aws.String("2h")}}); err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	next := func() time.Time {
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToTime(d.NextRotationDate)
	}
	if got := next(); !got.Equal(monday) {
		t.Fatalf("NextRotationDate = %v, want Monday 04:00 %v", got, monday)
	}
	clock.Advance(monday.Sub(t0) - time.Second)
	if _, v := current(t, c, out.ARN); v != "first-password" {
		t.Fatal("rotated before the schedule")
	}
	clock.Advance(time.Second)
	if _, v := current(t, c, out.ARN); v == "first-password" {
		t.Fatal("not rotated when the cron schedule came due")
	}
	if got, want := next(), time.Date(2026, 3, 5, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("after the Monday rotation NextRotationDate = %v, want Thursday %v", got, want)
	}
}

// TestRotationRulesReplaced: RotationRules replace the rules as a whole, so
// rules without Duration remove the window; a RotateSecret without
// RotationRules keeps the rules.
func TestRotationRulesReplaced(t *testing.T) {
	c, _, _ := rotatorEnv(t)
	ctx := context.Background()
	out := create(t, c, "dev/window", "first-password")
	rotate := func(rules *types.RotationRulesType) *sm.DescribeSecretOutput {
		t.Helper()
		if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: out.ARN, RotationLambdaARN: aws.String(testRotator), RotateImmediately: aws.Bool(false), RotationRules: rules}); err != nil {
			t.Fatal(err)
		}
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	week := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC) // midnight, seven days after t0
	if d := rotate(&types.RotationRulesType{ScheduleExpression: aws.String("rate(7 days)"), Duration: aws.String("3h")}); aws.ToString(d.RotationRules.Duration) != "3h" || !aws.ToTime(d.NextRotationDate).Equal(week) {
		t.Fatalf("window or next rotation not set: %+v, next %v", d.RotationRules, d.NextRotationDate)
	}
	if d := rotate(nil); aws.ToString(d.RotationRules.Duration) != "3h" || aws.ToString(d.RotationRules.ScheduleExpression) != "rate(7 days)" || !aws.ToTime(d.NextRotationDate).Equal(week) {
		t.Errorf("RotateSecret without rules changed them: %+v, next %v", d.RotationRules, d.NextRotationDate)
	}
	if d := rotate(&types.RotationRulesType{ScheduleExpression: aws.String("rate(7 days)")}); d.RotationRules.Duration != nil {
		t.Errorf("rules without Duration kept the window %q", aws.ToString(d.RotationRules.Duration))
	}
}
