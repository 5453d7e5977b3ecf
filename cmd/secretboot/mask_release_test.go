//go:build !leaktest

package main

import (
	"strings"
	"testing"
)

// TestNoUnmaskSwitchInRelease: secretboot as shipped masks whatever the
// environment says.
func TestNoUnmaskSwitchInRelease(t *testing.T) {
	const canary = "canary-release-8a2e"
	env := func(k string) (string, bool) { return "1", strings.HasPrefix(k, "SECRETBOOT_LEAKTEST") }
	_, stdout, stderr, file := runLeaky(t, env, canary)
	if strings.Contains(stdout+stderr+string(file), canary) {
		t.Fatalf("payload unmasked in a release build:\n%s\n%s", stdout, stderr)
	}
}
