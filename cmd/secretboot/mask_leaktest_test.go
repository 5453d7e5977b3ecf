//go:build leaktest

package main

import (
	"strings"
	"testing"
)

// TestLeaktestSwitch: a leaktest build turns masking off with
// SECRETBOOT_LEAKTEST_UNMASKED=1, so the leak harness sees what the first
// layer alone lets through; any other value leaves it on.
func TestLeaktestSwitch(t *testing.T) {
	const canary = "canary-unmasked-4f0c"
	tests := []struct {
		value      string
		wantMasked bool
	}{
		{"1", false},
		{"0", true},
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			env := func(k string) (string, bool) {
				if k == unmaskedEnv && tt.value != "" {
					return tt.value, true
				}
				return "", false
			}
			_, stdout, stderr, file := runLeaky(t, env, canary)
			leaked := strings.Contains(stdout+stderr+string(file), canary)
			notice := strings.Contains(stderr, "secretboot: masked ")
			if leaked == tt.wantMasked || notice != tt.wantMasked {
				t.Errorf("payload shown %v, notice %v; want masking %v:\n%s\n%s", leaked, notice, tt.wantMasked, stdout, stderr)
			}
		})
	}
}
