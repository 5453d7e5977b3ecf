package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/provision/verify"
)

// TestVerifyCrossAccount: a verified result still shows what to check in
// a cross-account reader's account, in text and Markdown.
func TestVerifyCrossAccount(t *testing.T) {
	const reason = "cross-account role partner (arn:aws:iam::222222222222:role/partner) cannot be checked from this account"
	r := &verify.Result{Project: "shop", Stage: "dev", Mode: verify.Local, Actions: verify.Actions, OK: true,
		CrossAccount: []verify.Difference{{Kind: verify.Unverified, Role: "partner", Reason: reason, CrossAccount: true}}}
	var text, md bytes.Buffer
	if err := Verify(&text, r, Colors{}); err != nil {
		t.Fatal(err)
	}
	if err := VerifyMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, "Verified:") || !strings.Contains(out, "not verified: cross-account role partner") {
			t.Errorf("%s output lacks the verdict or the cross-account line:\n%s", name, out)
		}
	}
}
