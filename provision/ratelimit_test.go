package provision

import (
	"strings"
	"testing"

	"golang.org/x/time/rate"
)

// TestIAMWriteRateSetting: the option wins, then SECRETBOOT_IAM_WRITE_RATE,
// then the default; a rate outside 1 to 1,000 or not a number is refused
// with where it came from.
func TestIAMWriteRateSetting(t *testing.T) {
	tests := []struct {
		option  float64
		env     string
		want    float64
		wantErr string
	}{
		{0, "", DefaultIAMWriteRate, ""},
		{50, "", 50, ""},
		{0, "40", 40, ""},
		{50, "40", 50, ""},
		{0, "fast", 0, `SECRETBOOT_IAM_WRITE_RATE="fast" is not a number`},
		{0, "0.5", 0, "SECRETBOOT_IAM_WRITE_RATE 0.5: it must be between 1 and 1000 IAM writes a second"},
		{5000, "", 0, "ConnectOptions.IAMWriteRate 5000: it must be between"},
		{-1, "", 0, "ConnectOptions.IAMWriteRate -1: it must"},
	}
	for _, tt := range tests {
		t.Setenv("SECRETBOOT_IAM_WRITE_RATE", tt.env)
		got, err := iamWriteRate(tt.option)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("option %v, env %q: error %v, want %q", tt.option, tt.env, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("option %v, env %q: %v, %v; want %v", tt.option, tt.env, got, err, tt.want)
		}
	}
}

// TestIAMWriteLimiter: the IAM write bucket holds the session's rate and
// refills at it; reads and Secrets Manager keep their own buckets.
func TestIAMWriteLimiter(t *testing.T) {
	for _, r := range []float64{DefaultIAMWriteRate, 50, 1} {
		l := newLimiters(r)
		w := l.forOp("IAM", "CreateRole")
		if w.Limit() != rate.Limit(r) || w.Burst() != int(r) {
			t.Errorf("rate %v: IAM writes limited to %v, burst %d", r, w.Limit(), w.Burst())
		}
		if l.forOp("IAM", "GetRole") == w || l.forOp("IAM", "SimulatePrincipalPolicy") == w || l.forOp("Secrets Manager", "CreateSecret") == w {
			t.Errorf("rate %v: reads, simulations or Secrets Manager share the IAM write bucket", r)
		}
	}
}
