package main

import (
	"bytes"
	"context"
	"testing"
)

// TestUsageErrors pins the one-line messages that replace cobra's and
// pflag's for misspelled commands and flags, and for bad flag values.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"single-dash typo, read by pflag as shorthands", []string{"plan", "-outt", "x"}, `unknown flag -outt for "secretboot plan"; did you mean -out?`},
		{"double-dash typo", []string{"plan", "--outt", "x"}, `unknown flag --outt for "secretboot plan"; did you mean -out?`},
		{"common flag typo", []string{"plan", "--spce", "x"}, `unknown flag --spce for "secretboot plan"; did you mean --spec?`},
		{"prefix of a flag", []string{"validate", "-all-stage"}, `unknown flag -all-stage for "secretboot validate"; did you mean -all-stages?`},
		{"nothing near", []string{"plan", "-zzzzzz"}, `unknown flag -zzzzzz for "secretboot plan" (secretboot plan -help lists its flags)`},
		{"one letter, nothing suggested", []string{"-v"}, `unknown flag -v for "secretboot" (secretboot -help lists its flags)`},
		{"one letter", []string{"apply", "-x"}, `unknown flag -x for "secretboot apply" (secretboot apply -help lists its flags)`},
		{"subcommand flag", []string{"sandbox", "serve", "-laetncy", "1s"}, `unknown flag -laetncy for "secretboot sandbox serve"; did you mean -latency?`},
		{"missing value", []string{"plan", "-out"}, `-out needs a value: -out FILE`},
		{"bad number, value not echoed", []string{"--parallelism", "s3cr3t-value", "plan"}, `--parallelism wants N (a whole number) (the value given is not shown: it may hold a payload)`},
		{"bad duration", []string{"sandbox", "serve", "-latency", "5"}, `-latency wants a duration such as 500ms or 2s (the value given is not shown: it may hold a payload)`},
		{"command typo", []string{"plna"}, `unknown command "plna" for "secretboot"; did you mean secretboot plan?`},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "secretboot" (secretboot -help lists the commands)`},
		{"subcommand typo", []string{"sandbox", "sreve"}, `unknown command "sreve" for "secretboot sandbox"; did you mean secretboot sandbox serve?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runWithEnv(context.Background(), tt.args, IOStreams{Out: &out, Err: &errOut}, noEnv)
			if code != exitError {
				t.Errorf("exit code %d, want %d", code, exitError)
			}
			if got, want := errOut.String(), "Error: "+tt.want+"\n"; got != want {
				t.Errorf("stderr:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	names := []string{"apply", "destroy", "import", "plan", "validate"}
	tests := []struct{ typed, want string }{
		{"plna", "plan"},
		{"aplly", "apply"},
		{"Validate", "validate"},
		{"val", "validate"},
		{"x", ""},
		{"v", ""},
		{"ipmort", "import"},
		{"zzzzzz", ""},
	}
	for _, tt := range tests {
		if got := nearest(tt.typed, names); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}
