package spec

import (
	"strings"
	"testing"
)

// TestUndeclaredVarFlagIsNotEchoed: a payload passed as --var "$TOKEN"
// parses as NAME=VALUE when it ends in base64 padding, so the error about
// an undeclared name must not print the name; it lists the declared ones.
func TestUndeclaredVarFlagIsNotEchoed(t *testing.T) {
	const spec = `
project = "p"
stage "dev" { region = "us-east-1" }
variable "db_host" { default = "db" }
variable "port" { default = 5432 }
role "web" {}
secret "s" {
  readers = [role.web]
  value   = "a literal value"
}`
	tests := []struct {
		name, arg string
		want      []string
	}{
		{"base64 token", "c2VjcmV0LXRva2VuLXZhbHVl", []string{"Declared: db_host, port."}},
		{"misspelt", "db_hots", []string{"Declared: db_host, port.", `Did you mean "db_host"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := Load(writeSpec(t, map[string]string{"main.hcl": spec}))
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			_, diags = c.Evaluate("dev", EvalOptions{Vars: map[string]string{tt.arg: "="}, LookupEnv: envMap(nil)})
			out := renderDiags(c.Files(), diags)
			if !strings.Contains(out, "Undeclared variable") {
				t.Fatalf("no Undeclared variable error:\n%s", out)
			}
			if strings.Contains(out, tt.arg) {
				t.Errorf("the --var name is echoed:\n%s", out)
			}
			detail := ""
			for _, d := range diags {
				detail += d.Detail
			}
			for _, w := range tt.want {
				if !strings.Contains(detail, w) {
					t.Errorf("missing %q in:\n%s", w, detail)
				}
			}
		})
	}
}
