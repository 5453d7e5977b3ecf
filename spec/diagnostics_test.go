package spec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// diagCanary is the payload of the diagnostics tests. It is a valid HCL
// identifier and JSON key, so expressions can turn it into object
// attribute names and map keys, which is where HCL and cty quote values.
const diagCanary = "CANARYq7Zx3kW9"

// canaryForms are the forms in which the canary must not appear: raw,
// JSON-escaped, and base64 in every alignment (a prefix shifts the
// encoding; the edge characters depend on neighbours, so only the stable
// middle is searched).
func canaryForms(canary string) []string {
	j, _ := json.Marshal(canary)
	forms := []string{canary, string(j[1 : len(j)-1])}
	for shift := 0; shift < 3; shift++ {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			s := enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + canary))
			lead := (shift*4 + 2) / 3
			forms = append(forms, s[lead+1:len(s)-4])
		}
	}
	return forms
}

// leakedForm returns the first form of canary found in out, or "".
func leakedForm(out, canary string) string {
	for _, f := range canaryForms(canary) {
		if strings.Contains(out, f) {
			return f
		}
	}
	return ""
}

// diagText renders diagnostics every way the CLI can: the text writer over
// the spec's files, Error(), and the fields themselves.
func diagText(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	out := renderDiags(files, diags) + diags.Error()
	for _, d := range diags {
		out += "\n" + d.Summary + "\n" + d.Detail
	}
	return out
}

// diagCase is a spec skeleton with holes for the expression under test.
type diagCase struct {
	name  string
	value string            // a secret's value (default "env(\"P\")")
	desc  string            // a role's description
	tag   string            // a role's tag value
	vars  string            // the stage's vars object
	vtype string            // type of variable "v"
	env   map[string]string // besides P
	files map[string]string // besides canary.txt
	want  string            // a summary that must be among the diagnostics
	// literal: the canary is written into the spec, so the source snippets
	// show it; only the diagnostics' own text is checked.
	literal bool
}

func (tc diagCase) spec() string {
	value := tc.value
	if value == "" {
		value = `env("P")`
	}
	vars := tc.vars
	if vars == "" {
		vars = "{}"
	}
	vtype := tc.vtype
	if vtype == "" {
		vtype = "any"
	}
	role := "role \"web\" {\n"
	if tc.desc != "" {
		role += "  description = " + tc.desc + "\n"
	}
	if tc.tag != "" {
		role += "  tags = { t = " + tc.tag + " }\n"
	}
	role += "}\n"
	return fmt.Sprintf(`project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = %s
}
variable "v" {
  type    = %s
  default = null
}
%s
secret "app/s" {
  readers       = [role.web]
  allow_literal = true
  value         = %s
}
`, vars, vtype, role, value)
}

// run loads and evaluates tc and returns everything printable.
func (tc diagCase) run(t *testing.T, canary string, opts EvalOptions) (string, hcl.Diagnostics) {
	t.Helper()
	files := map[string]string{
		"main.hcl":   tc.spec(),
		"canary.txt": canary,
		"dup.env":    canary + "\n" + canary + "\n",
		"obj.json":   fmt.Sprintf(`{"%s": [1], "b": "x"}`, canary),
	}
	for k, v := range tc.files {
		files[k] = v
	}
	env := map[string]string{"P": canary, "J": fmt.Sprintf(`{"%s": "v"}`, canary)}
	for k, v := range tc.env {
		env[k] = v
	}
	opts.LookupEnv = envMap(env)
	c, diags := Load(writeSpec(t, files))
	out := diagText(c.Files(), diags)
	if diags.HasErrors() {
		t.Fatalf("load: %s", out)
	}
	_, ds := c.Evaluate("dev", opts)
	return out + diagText(c.Files(), ds), ds
}

// issue10Cases are the leaks of issue 10 §1 and their relatives: each
// printed the canary before diagnostics were redacted.
var issue10Cases = []diagCase{
	{name: "for with duplicate keys", value: `{ for x in [env("P"), env("P")] : x => "1" }`, want: "Duplicate object key"},
	{name: "for over file lines", value: `{ for l in compact(split("\n", file("dup.env"))) : l => "1" }`, want: "Duplicate object key"},
	{name: "conditional with sensitive object", value: `env("P") != "" ? jsondecode(env("J")) : { other = ["x"] }`, want: "Inconsistent conditional result types"},
	{name: "conditional with computed key", value: `true ? { (env("P")) = "a" } : { b = [1] }`, want: "Inconsistent conditional result types"},
	{name: "stage var from jsondecode(file())", vars: `{ v = jsondecode(file("obj.json")) }`, vtype: "map(string)", want: "Invalid value for variable"},
	{name: "for duplicate keys in a stage var", vars: `{ v = { for x in [env("P"), env("P")] : x => 1 } }`, want: "Duplicate object key"},
	{name: "for duplicate keys in a tag", tag: `{ for x in [env("P"), env("P")] : x => 1 }`, want: "Duplicate object key"},
	{name: "for duplicate keys in a description", desc: `jsonencode({ for x in [env("P"), env("P")] : x => 1 })`, want: "Duplicate object key"},
	{name: "literal payload with duplicate keys", value: `{ for x in ["CANARYq7Zx3kW9", "CANARYq7Zx3kW9"] : x => 1 }`, want: "Duplicate object key", literal: true},
	{name: "SECRETBOOT_VAR_ map key", vtype: "map(string)", env: map[string]string{"SECRETBOOT_VAR_v": `{ CANARYq7Zx3kW9 = [1] }`}, want: "Invalid value for variable"},
}

// TestIssue10DiagnosticLeaks evaluates each known leak and checks that no
// form of the canary reaches any rendering of the diagnostics, while the
// diagnostic still says what kind of problem it is.
func TestIssue10DiagnosticLeaks(t *testing.T) {
	for _, tc := range issue10Cases {
		t.Run(tc.name, func(t *testing.T) {
			out, diags := tc.run(t, diagCanary, EvalOptions{})
			if tc.literal {
				out = ""
				for _, d := range diags {
					out += d.Summary + "\n" + d.Detail + "\n"
				}
			}
			if f := leakedForm(out, diagCanary); f != "" {
				t.Errorf("canary (%q) in diagnostics:\n%s", f, out)
			}
			found := false
			for _, d := range diags {
				found = found || d.Summary == tc.want
			}
			if !found {
				t.Errorf("no %q diagnostic:\n%s", tc.want, out)
			}
		})
	}
}

// TestHiddenDiagnosticsSayWhatToFix checks what a hidden diagnostic keeps:
// its location, a constant summary, and the details that name only what
// the spec writes (functions, variables, a source's name or path).
func TestHiddenDiagnosticsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name, value, summary, detail string
	}{
		{"unknown function", `{ a = upperr(env("P")) }`, "Call to unknown function", `There is no function named "upperr". Did you mean "upper"?`},
		{"too many arguments", `upper(env("P"), 1)`, "Too many function arguments", `Function "upper" expects only 1 argument(s).`},
		{"unset environment variable", `"${env("P")}${env("NOPE")}"`, "Error in function call", `Call to function "env" failed: environment variable NOPE is not set.`},
		{"missing file", `{ a = env("P"), b = file("nope.txt") }`, "Error in function call", `Call to function "file" failed: cannot read nope.txt: no such file or directory.`},
		{"misspelt variable", `{ a = env("P"), b = var.vv }`, "Undeclared variable", `var.vv is not declared; check the spelling or declare it with a variable block. Did you mean "v"?`},
		{"duplicate key", `{ for x in [env("P"), env("P")] : x => 1 }`, "Duplicate object key", hiddenPayloadDetail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, diags := diagCase{value: tt.value}.run(t, diagCanary, EvalOptions{})
			if len(diags) != 1 || diags[0].Summary != tt.summary || diags[0].Detail != tt.detail || diags[0].Subject == nil {
				t.Fatalf("want %q: %q, got:\n%s", tt.summary, tt.detail, out)
			}
			if d := diags[0]; d.Expression != nil || d.EvalContext != nil || d.Extra != nil {
				t.Errorf("hidden diagnostic keeps Expression, EvalContext or Extra: %#v", d)
			}
		})
	}
}

// TestHideDiagnosticsUnknownSummary: a summary that is not a proven
// constant is replaced too.
func TestHideDiagnosticsUnknownSummary(t *testing.T) {
	rng := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 3, Column: 5}, End: hcl.Pos{Line: 3, Column: 9}}
	got := hideDiagnostics(hcl.Diagnostics{{
		Severity: hcl.DiagWarning, Summary: "Key " + diagCanary + " is odd", Detail: diagCanary, Subject: &rng, Context: &rng,
	}}, false)
	want := &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: hiddenSummary, Detail: hiddenDetail, Subject: &rng, Context: &rng}
	if len(got) != 1 || *got[0] != *want {
		t.Errorf("got %#v, want %#v", got[0], want)
	}
}
