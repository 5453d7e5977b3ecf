package secretsmanager

import (
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	// 2026-03-01 is a Sunday.
	from := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		expr string
		want time.Time // zero: never comes due in the sandbox
	}{
		{"cron(0 4 ? * SUN *)", time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC)},
		{"cron(0 16 ? * SUN *)", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"cron(0 4 ? * 2 *)", time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}, // 2 is Monday
		{"cron(0 16 1,15 * ? *)", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"cron(0 8 1,15 * ? *)", time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)},
		{"cron(0 */6 * * ? *)", time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)},
		{"cron(0 1-3 ? * MON-FRI *)", time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)},
		{"cron(0 0 1 JAN ? *)", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"cron(30 12 1 3 ? 2026)", time.Time{}}, // that very minute has passed, and no later year is allowed
		{"cron(0 10 * * ? 2028)", time.Date(2028, 1, 1, 10, 0, 0, 0, time.UTC)},
		{"cron(0 0 31 2 ? *)", time.Time{}},  // no February 31st
		{"cron(0 0 L * ? *)", time.Time{}},   // L is not computed
		{"cron(0 0 ? * 6#3 *)", time.Time{}}, // nor #
		{"cron(0 25 * * ? *)", time.Time{}},  // out of range
		{"cron(0 4 * *)", time.Time{}},       // too few fields
		{"rate(1 day)", time.Time{}},
	}
	for _, tt := range tests {
		c, ok := parseCron(tt.expr)
		var got time.Time
		if ok {
			got = c.next(from)
		}
		if !got.Equal(tt.want) {
			t.Errorf("%s after %s = %s, want %s", tt.expr, from, got, tt.want)
		}
	}
}

// TestCheckRules: the rotation rules Secrets Manager takes and refuses
// (user guide, "Rotation schedules": every example there is taken; the
// cron expression requirements, the four hours between rotations and the
// window limits are refused).
func TestCheckRules(t *testing.T) {
	cron := func(expr string, window ...string) *rotationRules {
		r := &rotationRules{ScheduleExpression: &expr}
		if len(window) > 0 {
			r.Duration = &window[0]
		}
		return r
	}
	days := func(n int64, window string) *rotationRules {
		return &rotationRules{AutomaticallyAfterDays: &n, Duration: &window}
	}
	tests := []struct {
		rules *rotationRules
		ok    bool
	}{
		// The user guide's examples.
		{cron("cron(0 4/12 * * ? *)"), true},
		{cron("cron(0 /8 * * ? *)"), true},
		{cron("cron(0 8/8 * * ? *)"), true},
		{cron("cron(0 2/10 * * ? *)"), true}, // 22:00, then 02:00: four hours
		{cron("cron(0 10 * * ? *)"), true},
		{cron("cron(0 18 ? * SAT *)"), true},
		{cron("cron(0 8 1 * ? *)"), true},
		{cron("cron(0 1 ? 1/3 SUN#1 *)"), true},
		{cron("cron(0 17 L * ? *)"), true},
		{cron("cron(0 8 ? * MON-FRI *)"), true},
		{cron("cron(0 16 1,15 * ? *)"), true},
		{cron("cron(0 0 ? * SUN#1 *)"), true},
		{cron("cron(0 0 ? 1/11 2#1 *)"), true},
		{cron("cron(0 4 ? * sun *)"), true},
		{cron("cron(0 22 ? * 6L *)"), true},
		{cron("cron(0 9 15W * ? *)"), true},
		{cron("rate(4 hours)"), true},
		{cron("rate(10 days)"), true},
		// Fewer than four hours apart.
		{cron("cron(0 * * * ? *)"), false},
		{cron("cron(0 */3 * * ? *)"), false},
		{cron("cron(0 0,2 * * ? *)"), false},
		{cron("cron(0 9-17 ? * MON-FRI *)"), false},
		{cron("cron(0 0/7 * * ? *)"), false},        // 21:00, then 00:00 the next day
		{cron("cron(0 1,22 ? * MON,TUE *)"), false}, // Monday 22:00, Tuesday 01:00
		{cron("cron(0 1,22 ? * MON,WED *)"), true},  // never two days in a row
		{cron("cron(0 1,22 1,31 * ? *)"), false},    // the 31st, then the 1st
		{cron("cron(0 1,22 L * ? *)"), true},        // once a month
		{cron("rate(2 hours)"), false},
		// The fields Secrets Manager restricts.
		{cron("cron(30 4 * * ? *)"), false},
		{cron("cron(*/30 4 * * ? *)"), false},
		{cron("cron(0 4 * * ? 2027)"), false},
		{cron("cron(0 4 1 * MON *)"), false}, // both day fields
		{cron("cron(0 4 * * * *)"), false},
		{cron("cron(0 4 ? * ? *)"), false},
		{cron("cron(0 ? * * ? *)"), false},
		{cron("cron(0 25 * * ? *)"), false},
		{cron("cron(0 4 32 * ? *)"), false},
		{cron("cron(0 4 ? * 8 *)"), false},
		{cron("cron(0 4 ? * SUN#6 *)"), false},
		{cron("cron(0 4 ? 13 * *)"), false},
		{cron("cron(0 4 * * ?)"), false},
		{cron("cron(0 4 * * ? * *)"), false},
		{cron("every day"), false},
		// Windows.
		{cron("cron(0 20 * * ? *)", "4h"), true},
		{cron("cron(0 21 * * ? *)", "4h"), false}, // into the next UTC day
		{cron("cron(0 4/12 * * ? *)", "8h"), true},
		{cron("cron(0 4/12 * * ? *)", "12h"), false},
		{cron("cron(0 0/6 * * ? *)", "6h"), true}, // as long as the time between rotations
		{cron("cron(0 0/6 * * ? *)", "7h"), false},
		{cron("rate(6 hours)", "6h"), true},
		{cron("rate(6 hours)", "7h"), false},
		{cron("rate(2 days)", "24h"), true},
		{days(30, "24h"), true},
		{days(30, "25h"), false},
		{days(30, "90m"), false},
		{&rotationRules{AutomaticallyAfterDays: new(int64(1)), ScheduleExpression: new("rate(1 day)")}, false},
	}
	for _, tt := range tests {
		err := checkRules(tt.rules)
		if (err == nil) != tt.ok {
			t.Errorf("%s %s: %v, want ok=%v", deref(tt.rules.ScheduleExpression), deref(tt.rules.Duration), err, tt.ok)
		}
		if err != nil && err.Code != CodeInvalidParameter {
			t.Errorf("%s: code %s, want %s", deref(tt.rules.ScheduleExpression), err.Code, CodeInvalidParameter)
		}
	}
}
