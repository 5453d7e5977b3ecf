package provision_test

import (
	"context"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/provision"
)

// TestStageWithoutPayloadsIsNeverWritten: a stage evaluated without its
// payloads (as policy, verify and output evaluate it) would look like a
// stage whose declared values are gone; planning, applying and importing
// refuse it before any call.
func TestStageWithoutPayloadsIsNeverWritten(t *testing.T) {
	d := testDesired("payloadless", sandboxAccount, canary)
	d.PayloadsSkipped = true
	ctx := context.Background()
	_, diffErr := provision.Diff(d, &provision.Observed{Account: sandboxAccount, Region: "us-east-1"}, provision.DiffOptions{})
	_, applyErr := provision.Apply(ctx, nil, &provision.Plan{}, d, provision.ApplyOptions{})
	_, importErr := provision.Import(ctx, nil, d, []string{d.Secrets[0].Name})
	for name, err := range map[string]error{"Diff": diffErr, "Apply": applyErr, "Import": importErr} {
		if err == nil || !strings.Contains(err.Error(), "without its payloads") {
			t.Errorf("%s of a stage without payloads: %v, want a refusal", name, err)
		}
	}
}
