package spec

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLiteralCredentialUnderSensitiveMark checks literal credentials in
// objects that a sensitive key or function argument marks as a whole.
func TestLiteralCredentialUnderSensitiveMark(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string // "summary @line"
	}{
		// P's value, "env-secret-1", says credential too: both fields are reported.
		{"sensitive key", `value = { (env("P")) = "x", password = "hunter2hunter2" }`, []string{"Literal credential in spec @9", "Literal credential in spec @9"}},
		{"sensitive key alone", `value = { (env("P")) = "x" }`, []string{"Literal credential in spec @9"}},
		{"sensitive key, sensitive value", `value = { (env("P")) = env("L") }`, nil},
		{"merge with a sensitive object", `value = merge(jsondecode(file("db.json")), { api_key = "literal-key-1" })`, []string{"Literal credential in spec @9"}},
		{"non-sensitive variable", `value = merge(jsondecode(file("db.json")), { password = var.v })`, []string{"Literal credential in spec @9"}},
		{"nested", `value = { (env("P")) = { token = "literal-token" } }`, []string{"Literal credential in spec @9", "Literal credential in spec @9"}},
		{"sensitive value", `value = { (env("P")) = env("L"), password = env("L") }`, nil},
		{"null", `value = merge(jsondecode(file("db.json")), { token = null })`, nil},
		{"for symbols", `value = { for k, v in jsondecode(file("db.json")) : k => { secret = v } }`, nil},
		{"allow_literal", "allow_literal = true\n  value = { (env(\"P\")) = \"x\", password = \"hunter2hunter2\" }", nil},
		{"unmarked object: reported once", `value = { password = "hunter2hunter2" }`, []string{"Literal credential in spec @9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": maskSpec("{}", tt.value)}
			for k, v := range maskFiles {
				files[k] = v
			}
			c, diags := Load(writeSpec(t, files))
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			_, diags = c.Evaluate("dev", EvalOptions{LookupEnv: envMap(maskEnv)})
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%s @%d", d.Summary, d.Subject.Start.Line))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\n%s", diff, renderDiags(c.Files(), diags))
			}
		})
	}
}
