package secretsmanager

import "testing"

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
		{cron("cron(0 22 ? * 6L *)"), true},
		{cron("rate(4 hours)"), true},
		{cron("rate(23 hours)"), true},
		{cron("rate(10 days)"), true},
		{cron("rate(999 days)"), true},
		// The stricter reading where AWS's answer is not recorded.
		{cron("cron(0 4 ? * sun *)"), false},
		{cron("cron(0 9 15W * ? *)"), false},
		{cron("cron(0 1,13 * * ? *)"), false},
		{cron("cron(0 */6 * * ? *)"), false},
		{cron("cron(0  4 * * ? *)"), false},
		{cron("rate(24 hours)"), false},
		{cron("rate(1000 days)"), false},
		{cron("rate(1 days)"), false},
		// Fewer than four hours apart.
		{cron("cron(0 * * * ? *)"), false},
		{cron("cron(0 */3 * * ? *)"), false},
		{cron("cron(0 0,2 * * ? *)"), false},
		{cron("cron(0 9-17 ? * MON-FRI *)"), false},
		{cron("cron(0 0/7 * * ? *)"), false},        // 21:00, then 00:00 the next day
		{cron("cron(0 1/21 ? * MON,TUE *)"), false}, // Monday 22:00, Tuesday 01:00
		{cron("cron(0 1/21 ? * MON,WED *)"), true},  // never two days in a row
		{cron("cron(0 1/21 1,31 * ? *)"), false},    // the 31st, then the 1st
		{cron("cron(0 1/21 L * ? *)"), true},        // once a month
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
		{days(30, "24h"), false}, // a window needs a schedule expression
		{cron("rate(30 days)", "24h"), true},
		{&rotationRules{Duration: new("4h")}, false},
		{days(30, "25h"), false},
		{days(30, "90m"), false},
		{&rotationRules{AutomaticallyAfterDays: new(int64(1)), ScheduleExpression: new("rate(1 day)")}, false},
	}
	for _, tt := range tests {
		s, err := checkRules(tt.rules)
		if (err == nil) != tt.ok || (err == nil) != (len(s.Starts) > 0) {
			t.Errorf("%s %s: %v, want ok=%v", deref(tt.rules.ScheduleExpression), deref(tt.rules.Duration), err, tt.ok)
		}
		if err != nil && err.Code != CodeInvalidParameter {
			t.Errorf("%s: code %s, want %s", deref(tt.rules.ScheduleExpression), err.Code, CodeInvalidParameter)
		}
	}
}

// TestCheckRulesSays: what each refusal says, AWS's recorded words for
// both schedules and moto's for bad days (the rule itself is package
// rotationrules', tested there).
func TestCheckRulesSays(t *testing.T) {
	days := func(n int64) *rotationRules { return &rotationRules{AutomaticallyAfterDays: &n} }
	rules := func(expr, window string) *rotationRules {
		r := &rotationRules{ScheduleExpression: &expr}
		if window != "" {
			r.Duration = &window
		}
		return r
	}
	tests := []struct {
		rules *rotationRules
		want  string
	}{
		{days(1001), "RotationRules.AutomaticallyAfterDays must be within 1-1000."},
		{rules("rate(3 hours)", ""), "The schedule expression rate(3 hours) is not a valid rate() expression for Secrets Manager: rotations are at least 4 hours apart."},
		{rules("rate(1000 days)", ""), "The schedule expression rate(1000 days) is not a valid rate() expression for Secrets Manager: the longest rotation period is 999 days."},
		{rules("daily", ""), "The schedule expression daily is not a valid rate() or cron() expression."},
		{rules("cron(30 4 * * ? *)", ""), "The schedule expression cron(30 4 * * ? *) is not a valid cron() expression for Secrets Manager: the minutes field must be 0: rotation windows open on the hour."},
		{rules("cron(0 1/21 ? * MON,TUE *)", ""), "The schedule expression cron(0 1/21 ? * MON,TUE *) is not a valid cron() expression for Secrets Manager: it rotates 3 hour(s) apart (22:00 UTC, then 01:00 the next day); rotations are at least 4 hours apart."},
		{&rotationRules{Duration: new("3 hours")}, "Duration must be a number of hours such as 3h."},
		{days(30), ""},
		{&rotationRules{Duration: new("25h")}, "Duration must be 1h to 24h."},
		{&rotationRules{AutomaticallyAfterDays: new(int64(2)), Duration: new("24h")}, "Duration requires a ScheduleExpression: the rotation window starts according to it."},
		{&rotationRules{Duration: new("4h")}, "Duration requires a ScheduleExpression: the rotation window starts according to it."},
		{rules("rate(2 days)", "24h"), ""},
		{rules("rate(6 hours)", "7h"), "The rotation window (7h) extends into the next rotation window, 6 hours later."},
		{rules("cron(0 21 * * ? *)", "4h"), "The rotation window (4h) opening at 21:00 UTC extends into the next UTC day."},
	}
	for _, tt := range tests {
		got := ""
		if _, err := checkRules(tt.rules); err != nil {
			got = err.Message
		}
		if got != tt.want {
			t.Errorf("%s %s: %q, want %q", deref(tt.rules.ScheduleExpression), deref(tt.rules.Duration), got, tt.want)
		}
	}
}
