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
