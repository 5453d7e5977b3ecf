package spec

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// maskSpec is a spec with one secret (value on line 9) and a stage var v.
func maskSpec(vars, value string) string {
	return `project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = ` + vars + `
}
variable "v" { default = "default value" }
role "web" {}
secret "app/s" {
  ` + value + `
  readers = [role.web]
}
`
}

var maskEnv = map[string]string{"P": "env-secret-1", "S": "s3Kr1", "L": "a long enough value"}

var maskFiles = map[string]string{
	"cert.der": "\x00\x01binary-bytes",
	"tiny.der": "\x00t1nY",
	"db.json":  `{"user": "dbuser01", "password": "dbpass0001"}`,
}

// TestEvalOptionsMask lists what Evaluate hands to EvalOptions.Mask.
func TestEvalOptionsMask(t *testing.T) {
	tests := []struct {
		name  string
		vars  string
		value string
		want  []string
	}{
		{"env string", "{}", `value = env("P")`, []string{"env-secret-1"}},
		{"object with literal field", "{}", `value = { user = "app-user", pass = env("P") }`,
			[]string{`{"pass":"env-secret-1","user":"app-user"}`, "env-secret-1"}},
		{"filebase64", "{}", `binary = filebase64("cert.der")`,
			[]string{"\x00\x01binary-bytes", "AAFiaW5hcnktYnl0ZXM="}},
		{"function of a source", "{}", `value = upper(env("P"))`, []string{"ENV-SECRET-1", "env-secret-1"}},
		{"jsondecode of a file", "{}", `value = jsondecode(file("db.json"))`,
			[]string{`{"password":"dbpass0001","user":"dbuser01"}`, `{"user": "dbuser01", "password": "dbpass0001"}`, "dbpass0001", "dbuser01"}},
		{"allow_literal", "{}", "allow_literal = true\n  value = { token = \"literal-token-1\", n = 5 }",
			[]string{`{"n":5,"token":"literal-token-1"}`, "literal-token-1"}},
		{"stage var", `{ v = env("P") }`, `value = "${var.v}-x"`, []string{"env-secret-1", "env-secret-1-x"}},
		{"literal string", "{}", `value = "not a credential"`, []string{"not a credential"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": maskSpec(tt.vars, tt.value)}
			for k, v := range maskFiles {
				files[k] = v
			}
			c, diags := Load(writeSpec(t, files))
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			got := map[string]bool{}
			var mu sync.Mutex
			d, diags := c.Evaluate("dev", EvalOptions{LookupEnv: envMap(maskEnv), Mask: func(b []byte) {
				mu.Lock()
				defer mu.Unlock()
				got[string(b)] = true
				b[0] ^= 0xff // a copy: changing it must not change the payload
			}})
			if d == nil {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			var list []string
			for s := range got {
				list = append(list, s)
			}
			sort.Strings(list)
			sort.Strings(tt.want)
			if diff := cmp.Diff(tt.want, list); diff != "" {
				t.Errorf("masked (-want +got):\n%s", diff)
			}
			if want := got[string(d.Secrets[0].Payload.Declared.Reveal())]; !want {
				t.Error("the declared payload was not masked, or a masked copy aliased it")
			}
		})
	}
}

// TestShortValueWarnings checks the warnings about values too short to be
// masked: located, naming the secret or variable and the source, never
// the value.
func TestShortValueWarnings(t *testing.T) {
	tests := []struct {
		name   string
		vars   string
		value  string
		want   []string // "summary @line:col"
		detail string   // in the first warning's detail
	}{
		{"short payload from env", "{}", `value = env("S")`,
			[]string{"Payload too short to mask @9:11"}, `Secret "app/s": the declared payload has fewer than 8 bytes`},
		{"short literal payload", "{}", `value = "abc"`,
			[]string{"Payload too short to mask @9:11"}, `Secret "app/s"`},
		{"short source in an object", "{}", `value = { a = env("S"), b = "a long enough value" }`,
			[]string{"Value too short to mask @9:17"}, `Secret "app/s": the value of env("S") has fewer than 8 bytes, too short to be masked in output`},
		{"short source in a stage var", `{ v = env("S") }`, `value = "${var.v}-long-enough"`,
			[]string{"Value too short to mask @4:18"}, `var.v of stage "dev": the value of env("S")`},
		{"short file for binary", "{}", `binary = filebase64("tiny.der")`,
			[]string{"Payload too short to mask @9:12"}, `Secret "app/s"`},
		{"short file in an object", "{}", `value = { a = filebase64("tiny.der") }`,
			[]string{"Value too short to mask @9:17"}, `filebase64("tiny.der")`},
		{"long enough", "{}", `value = env("L")`, nil, ""},
		{"empty is an error, not a warning", "{}", `value = ""`, []string{"Empty payload @8:1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": maskSpec(tt.vars, tt.value)}
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
				got = append(got, fmt.Sprintf("%s @%d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column))
			}
			out := renderDiags(c.Files(), diags)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("diagnostics (-want +got):\n%s\n%s", diff, out)
			}
			if tt.detail != "" && !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("detail lacks %q:\n%s", tt.detail, out)
			}
			for _, v := range []string{"s3Kr1", "t1nY", "dDFuWQ"} {
				if strings.Contains(out, v) {
					t.Errorf("a warning shows the value %q:\n%s", v, out)
				}
			}
		})
	}
}
