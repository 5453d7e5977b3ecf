package provision_test

import (
	"context"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/provision"
)

// TestStageWithoutPayloadsIsNeverWritten: a stage evaluated without its
// payloads (as policy, verify, output and destroy evaluate it) would look
// like a stage whose declared values are gone; planning, applying and
// importing refuse it before any call, unless the plan destroys the stage.
func TestStageWithoutPayloadsIsNeverWritten(t *testing.T) {
	d := testDesired("payloadless", sandboxAccount, canary)
	d.PayloadsSkipped = true
	ctx := context.Background()
	observed := &provision.Observed{Account: sandboxAccount, Region: "us-east-1"}
	_, diffErr := provision.Diff(d, observed, provision.DiffOptions{})
	_, applyErr := provision.Apply(ctx, nil, &provision.Plan{}, d, provision.ApplyOptions{})
	_, importErr := provision.Import(ctx, nil, d, []string{d.Secrets[0].Name})
	for name, err := range map[string]error{"Diff": diffErr, "Apply": applyErr, "Import": importErr} {
		if err == nil || !strings.Contains(err.Error(), "without its payloads") {
			t.Errorf("%s of a stage without payloads: %v, want a refusal", name, err)
		}
	}
	if _, err := provision.Diff(d, observed, provision.DiffOptions{Destroy: true}); err != nil {
		t.Errorf("planning the destruction of a stage without payloads: %v", err)
	}
}
