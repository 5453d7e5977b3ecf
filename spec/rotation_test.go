package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestScheduleInterval(t *testing.T) {
	tests := []struct {
		schedule string
		hours    int
		refused  string // part of the reason, "" when accepted
	}{
		{"rate(4 hours)", 4, ""},
		{"rate(12 hours)", 12, ""},
		{"rate(1 day)", 24, ""},
		{"rate(30 days)", 720, ""},
		{"rate(1000 days)", 24000, ""},
		{"rate(3 hours)", 0, "every 4 hours"},
		{"rate(0 days)", 0, "1 to 1000 days"},
		{"rate(1001 days)", 0, "1 to 1000 days"},
		{"rate(10 minutes)", 0, "rate() or cron()"},
		{"cron(0 4 ? * SUN *)", 24, ""},
		{"cron(0 */4 * * ? *)", 4, ""},
		{"cron(0 8/6 * * ? *)", 6, ""},                 // 8, 14, 20 and 8 again the next day: 12 hours
		{"cron(0 1,13 * * ? *)", 12, ""},               // twice a day
		{"cron(30 0,20 ? * MON *)", 20, ""},            // on Mondays only: 20:30 is not followed by 00:30
		{"cron(0 0,21 * * ? *)", 0, "3 hour(s) apart"}, // 21:00 then 00:00 the next day
		{"cron(0 */2 * * ? *)", 0, "2 hour(s) apart"},
		{"cron(0 9-17 ? * MON-FRI *)", 0, "1 hour(s) apart"},
		{"cron(*/30 4 * * ? *)", 0, "one minute"},
		{"cron(0 4 * * ?)", 0, "six fields"},
		{"cron(0 25 * * ? *)", 0, "hours field"},
		{"cron(0 4 * * ? *) ; rm", 0, "rate() or cron()"},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			hours, reason := scheduleInterval(tt.schedule)
			if tt.refused == "" {
				if reason != "" || hours != tt.hours {
					t.Errorf("got %d hours, %q; want %d hours, accepted", hours, reason, tt.hours)
				}
				return
			}
			if !strings.Contains(reason, tt.refused) {
				t.Errorf("reason %q does not say %q", reason, tt.refused)
			}
		})
	}
}

func TestCheckWindow(t *testing.T) {
	tests := []struct {
		window, schedule string
		interval         int
		refused          string
	}{
		{"3h", "rate(4 hours)", 4, ""},
		{"4h", "rate(4 hours)", 4, "shorter than the 4 hours"},
		{"24h", "rate(1 day)", 24, ""},
		{"24h", "", 720, ""},
		{"25h", "", 720, "1h to 24h"},
		{"0h", "", 720, "1h to 24h"},
		{"2h", "cron(0 22 ? * SUN *)", 24, ""},
		{"3h", "cron(0 22 ? * SUN *)", 24, "next UTC day"},
		{"4h", "cron(0 0,12 * * ? *)", 12, ""},
		{"4", "", 720, "whole number of hours"},
		{"1d", "", 720, "whole number of hours"},
	}
	for _, tt := range tests {
		reason := checkWindow(tt.window, tt.schedule, tt.interval)
		if (tt.refused == "") != (reason == "") || !strings.Contains(reason, tt.refused) {
			t.Errorf("window %s on %q: %q, want %q", tt.window, tt.schedule, reason, tt.refused)
		}
	}
}

// TestRotationEvaluated: the rotating fields are the labelled generate
// blocks (none: the whole payload), value_owner becomes "rotation", and a
// role that only rotates is not an unused role.
func TestRotationEvaluated(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": `
project = "shop"
stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}
role "web" {}
role "rotator" {
  service = ["lambda.amazonaws.com"]
}
secret "db" {
  readers = [role.web]
  value   = { username = "app" }
  generate "password" {}
  generate "api_token" {}
  rotation {
    lambda_arn         = "arn:aws:lambda:us-east-1:000000000000:function:rotate-${var.stage}"
    schedule           = "rate(10 days)"
    window             = "4h"
    rotate_immediately = true
    rotator            = role.rotator
  }
}
secret "api" {
  readers     = [role.web]
  generate {}
  value_owner = "rotation"
  rotation {
    lambda_arn               = "arn:aws:lambda:us-east-1:000000000000:function:rotate:live"
    automatically_after_days = 30
  }
}
secret "plain" {
  readers = [role.web]
  generate {}
}
`})
	c, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d, diags := c.Evaluate("dev", EvalOptions{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	want := map[string]*Rotation{
		"dev/db": {LambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:rotate-dev", Schedule: "rate(10 days)", Window: "4h",
			RotateImmediately: true, Rotator: "rotator", Fields: []string{"api_token", "password"}},
		"dev/api": {LambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:rotate:live", AutomaticallyAfterDays: 30},
	}
	for _, s := range d.Secrets {
		if diff := cmp.Diff(want[s.Name], s.Rotation, cmpopts.IgnoreFields(Rotation{}, "DeclRange")); diff != "" {
			t.Errorf("%s: rotation (-want +got):\n%s", s.Name, diff)
		}
		wantOwner := ValueOwnerRotation
		if want[s.Name] == nil {
			wantOwner = ""
		}
		if s.ValueOwner != wantOwner {
			t.Errorf("%s: value owner %q, want %q", s.Name, s.ValueOwner, wantOwner)
		}
	}
}
