package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestRotationRulesLocated: validate refuses the schedules and windows
// Secrets Manager refuses (internal/rotationrules has the full tables),
// each at the attribute's value (file:line:col) with a detail saying what
// AWS takes, and takes what AWS takes, AWS's own examples included.
func TestRotationRulesLocated(t *testing.T) {
	tests := []struct {
		attrs   string // the rotation block's schedule and window
		summary string // "" when taken
		line    int
		col     int
		detail  string
	}{
		{`schedule = "cron(0 /8 * * ? *)"`, "", 0, 0, ""},
		{`schedule = "cron(0 1 ? 1/3 SUN#1 *)"`, "", 0, 0, ""},
		{`schedule = "cron(0 1/21 ? * MON,WED *)"`, "", 0, 0, ""},
		{`schedule = "rate(23 hours)"`, "", 0, 0, ""},
		{`schedule = "rate(999 days)"`, "", 0, 0, ""},
		{"schedule = \"rate(30 days)\"\n    window = \"24h\"", "", 0, 0, ""},
		{"schedule = \"rate(6 hours)\"\n    window = \"6h\"", "", 0, 0, ""}, // as long as the time between rotations
		{"schedule = \"cron(0 20 ? * MON *)\"\n    window = \"4h\"", "", 0, 0, ""},
		{`schedule = "cron(30 0,20 ? * MON *)"`, "Invalid rotation schedule", 8, 16,
			"cron(30 0,20 ? * MON *) is not a cron() expression Secrets Manager takes: the minutes field must be 0: rotation windows open on the hour."},
		{`schedule = "cron(0 4 * * ? 2027)"`, "Invalid rotation schedule", 8, 16, "the year field must be *"},
		{`schedule = "cron(0 4 1 * MON *)"`, "Invalid rotation schedule", 8, 16, "exactly one of day-of-month and day-of-week must be ?"},
		{`schedule = "cron(0 4 ? * ? *)"`, "Invalid rotation schedule", 8, 16, "exactly one of day-of-month and day-of-week must be ?"},
		{`schedule = "cron(0 1/21 ? * MON,TUE *)"`, "Invalid rotation schedule", 8, 16,
			"it rotates 3 hour(s) apart (22:00 UTC, then 01:00 the next day); rotations are at least 4 hours apart."},
		{`schedule = "cron(0 0/2 * * ? *)"`, "Invalid rotation schedule", 8, 16, "2 hour(s) apart"},
		{`schedule = "rate(2 hours)"`, "Invalid rotation schedule", 8, 16, "rate(2 hours) is not a rate() expression Secrets Manager takes: rotations are at least 4 hours apart."},
		{`schedule = "rate(24 hours)"`, "Invalid rotation schedule", 8, 16, "a day or more is written in days, rate(1 day) to rate(999 days)"},
		{`schedule = "rate(1000 days)"`, "Invalid rotation schedule", 8, 16, "the longest rotation period is 999 days"},
		{`schedule = "cron(0 4,16 * * ? *)"`, "Invalid rotation schedule", 8, 16, "the hours field is an hour 0–23 or an increment such as 4/12 or /8"},
		{`schedule = "cron(0 4 15W * ? *)"`, "Invalid rotation schedule", 8, 16, "the day-of-month field is not 1–31 with , - * / L."},
		{`schedule = "cron(0 4 ? * sun *)"`, "Invalid rotation schedule", 8, 16, "lower-case letters"},
		{`schedule = "cron(0 4 * * ?  *)"`, "Invalid rotation schedule", 8, 16, "single spaces"},
		{"automatically_after_days = 30\n    window = \"24h\"", "Invalid rotation window", 9, 14,
			`Secrets Manager takes no window with automatically_after_days (API reference, RotationRulesType): write schedule = "rate(30 days)" in place of automatically_after_days = 30.`},
		{"automatically_after_days = 1\n    window = \"4h\"", "Invalid rotation window", 9, 14, `write schedule = "rate(1 day)" in place of automatically_after_days = 1.`},
		{"automatically_after_days = 1000\n    window = \"4h\"", "Invalid rotation window", 9, 14,
			`write schedule = "rate(999 days)" in place of automatically_after_days = 1000, the longest rate() (999 days at most).`},
		{`schedule = "rate(10 minutes)"`, "Invalid rotation schedule", 8, 16, "a rate() or cron() expression"},
		{`automatically_after_days = 1001`, "Invalid rotation interval", 8, 32, "every 1 to 1000 days, not every 1001"},
		{"schedule = \"rate(6 hours)\"\n    window = \"7h\"", "Invalid rotation window", 9, 14,
			"A window of 7h runs into the next rotation, 6 hours later: Secrets Manager takes a window at most as long as the time between rotations."},
		{"schedule = \"cron(0 21 * * ? *)\"\n    window = \"4h\"", "Invalid rotation window", 9, 14, "opening at 21:00 UTC runs into the next UTC day"},
		{"schedule = \"cron(0 21 * * ? 2027)\"\n    window = \"25h\"", "Invalid rotation schedule", 8, 16, "the year field must be *"},
		{"schedule = \"cron(0 21 * * ? 2027)\"\n    window = \"25h\"", "Invalid rotation window", 9, 14, "1h to 24h, not 25h"},
		{"automatically_after_days = 30\n    window = \"90m\"", "Invalid rotation window", 9, 14, `whole number of hours such as "4h", not "90m"`},
	}
	for _, tt := range tests {
		t.Run(tt.attrs, func(t *testing.T) {
			dir := writeSpec(t, map[string]string{"main.hcl": `project = "shop"
stage "dev" { region = "us-east-1" }
role "web" {}
secret "db" {
  readers = [role.web]
  generate {}
  rotation {
    ` + tt.attrs + `
    lambda_arn = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
  }
}
`})
			c, diags := Load(dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			_, diags = c.Evaluate("dev", EvalOptions{})
			if tt.summary == "" {
				if diags.HasErrors() {
					t.Errorf("refused: %s", diags)
				}
				return
			}
			for _, d := range diags {
				if d.Summary == tt.summary {
					if got := d.Subject.Start; got.Line != tt.line || got.Column != tt.col || !strings.Contains(d.Detail, tt.detail) {
						t.Errorf("%s at %d:%d: %s; want at %d:%d saying %q", d.Summary, got.Line, got.Column, d.Detail, tt.line, tt.col, tt.detail)
					}
					return
				}
			}
			t.Errorf("no %q among %s", tt.summary, diags)
		})
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
