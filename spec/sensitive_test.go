package spec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const envCanary = "CANARY{\"x\": 7 ,+ /sk_live_9f2e\\"

// TestSensitiveValuesStayOutOfDiagnostics evaluates expressions that fail on
// a sensitive value and checks that neither the canary nor a piece of it
// appears in the rendered diagnostics.
func TestSensitiveValuesStayOutOfDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		expr string // the value of secret "s"
		want []string
	}{
		{"jsondecode", `jsondecode(env("C"))`, []string{"error: Error in function call"}},
		{"tonumber", `tonumber(env("C"))`, []string{"error: Invalid function argument"}},
		{"arithmetic", `env("C") + 1`, []string{"error: Invalid operand"}},
		{"format verb", `format("%d", env("C"))`, []string{"error: Error in function call"}},
		{"regex pattern", `regex(env("C"), "abc")`, []string{"error: Invalid function argument"}},
		{"replace regex", `replace("abc", "/${env("C")}/", "x")`, []string{"error: Error in function call"}},
		{"index with key", `{ a = "b" }[env("C")]`, []string{"error: Invalid index"}},
		{"lookup", `lookup({ a = "b" }, env("C"), "default")`, []string{"warning: Payload too short to mask"}},
		{"element of string", `element(env("C"), 0)`, []string{"error: Error in function call"}},
		{"file from env", `file(env("C"))`, []string{"error: Error in function call"}},
		{"env from env", `env(env("C"))`, []string{"error: Error in function call"}},
		{"condition", `env("C") ? "a" : "b"`, []string{"error: Incorrect condition type"}},
		{"var condition", `var.c ? "a" : "b"`, []string{"error: Incorrect condition type"}},
		{"var arithmetic", `var.c * 2`, []string{"error: Invalid operand"}},
		{"for over string", `[for x in env("C") : x]`, []string{"error: Iteration over non-iterable value"}},
		{"object key", `{ (env("C")) = "v" }`, nil},
		{"attribute of string", `env("C").field`, []string{"error: Unsupported attribute"}},
		{"invalid base64", `base64`, []string{"error: Invalid base64"}},
		{"length of string", `length(env("C"))`, []string{"error: Error in function call"}},
		{"number payload", `parseint("12", 10) + 0 * length([env("C")])`, []string{"error: Invalid payload type"}},
		{"csvdecode", `csvdecode(env("C"))`, []string{"error: Error in function call"}},
		{"jsondecode object keys", `jsondecode("{\"k\": 1, \"${env("C")}\": 2}")`, []string{"error: Error in function call"}},
		{"file object keys", `merge(jsondecode(file("keys.json")), { a = 1 })`, nil},
		{"parseint", `parseint(env("C"), 10)`, []string{"error: Invalid function argument"}},
		{"tomap", `tomap(env("C"))`, []string{"error: Invalid function argument"}},
		{"sensitive description", `description`, []string{"error: Sensitive value not allowed here"}},
		{"sensitive tag", `tag`, []string{"error: Sensitive value not allowed here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf("value = %s", tt.expr)
			switch tt.expr {
			case "base64":
				body = `binary = env("C")`
			case "description":
				body = "value = \"xxxxxxxx\"\n  description = var.c"
			case "tag":
				body = "value = \"xxxxxxxx\"\n  tags = { t = env(\"C\") }"
			}
			spec := fmt.Sprintf(`
project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = { c = env("C") }
}
variable "c" { type = string }
role "web" {}
secret "s" {
  readers = [role.web]
  %s
}`, body)
			c, diags := Load(writeSpec(t, map[string]string{"main.hcl": spec, "keys.json": `{"CANARY": "sk_live"}`}))
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			d, diags := c.Evaluate("dev", EvalOptions{LookupEnv: envMap(map[string]string{"C": envCanary})})
			if diff := cmp.Diff(tt.want, summaries(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\n%s", diff, renderDiags(c.Files(), diags))
			}
			out := renderDiags(c.Files(), diags)
			for _, d := range diags {
				out += fmt.Sprintf("%v %#v", d, d)
			}
			if d != nil {
				b, _ := json.Marshal(d.Roles)
				out += fmt.Sprintf("%v %+v %#v %s %s", d, d, d, d.SpecHash, b)
				for _, s := range d.Secrets {
					out += fmt.Sprintf("%v %+v %#v", s, s, s)
				}
			}
			// %#v prints pointers, and an address may contain "9f2e" by chance.
			out = hexAddress.ReplaceAllString(out, "0x…")
			if d != nil {
				// The hash of the spec files holds no payload, but its hex
				// digits may hold "9f2e" by chance.
				out = strings.ReplaceAll(out, d.SpecHash, "(spec hash)")
			}
			assertNoCanary(t, out, spec, envCanary, "CANARY", "sk_live", "9f2e")
		})
	}
}

var hexAddress = regexp.MustCompile(`0x[0-9a-f]+`)

// assertNoCanary fails when out holds the canary or one of the distinctive
// pieces of it (jsondecode errors, for example, quote single characters).
// Pieces that the spec source itself contains are skipped: a snippet of the
// source may legitimately show them.
func assertNoCanary(t testing.TB, out, src, canary string, pieces ...string) {
	t.Helper()
	for _, piece := range append([]string{canary}, pieces...) {
		if strings.Contains(src, piece) {
			continue
		}
		if strings.Contains(out, piece) {
			t.Fatalf("sensitive value (%q) in output:\n%s", piece, out)
		}
	}
}
