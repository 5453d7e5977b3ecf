package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadEvaluate feeds arbitrary spec text through Load and Evaluate. It
// must never panic, and the canary that env("C"), file("f") and a stage var
// supply must never reach a rendered diagnostic or an error.
func FuzzLoadEvaluate(f *testing.F) {
	seeds := []string{
		"",
		`project = "p"`,
		`project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = { c = env("C") }
}
variable "c" { type = string }
role "web" {}
secret "s" {
  readers = [role.web]
  value   = { password = env("C"), host = "h" }
}`,
		`project = "p"
stage "dev" { region = "us-east-1" }
role "web" {}
secret "s" {
  readers = [role.web]
  value   = jsondecode(env("C"))
}`,
		`project = "p"
stage "dev" { region = "us-east-1" }
role "web" {}
secret "s" {
  readers = [role.web]
  binary  = base64(file("f"))
  generate "x" { length = tonumber(env("C")) }
}`,
		`project = "p"
stage "dev" { region = "us-east-1" }
variable "n" { type = number }
role "web" { tags = { a = format("%d", env("C")) } }
secret "s" {
  readers  = [role.web]
  describe = env("C")
  value    = "${env("C")}-${upper(file("f"))}"
  generate {}
}`,
		`project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = { n = env("C") }
}
variable "n" { type = list(number) }
role "web" { description = var.n }
secret "s" {
  readers = [role.web]
  value   = { k = [for x in env("C") : x], (env("C")) = 1 }
}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	const canary = `CANARY-7f3a{"x":"\u0001`
	// One directory per worker process: inputs run one at a time, and a
	// fresh directory per input would dominate the cost of an execution.
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(canary), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		c, diags := Load(dir)
		if c == nil {
			t.Fatal("Load returned a nil config")
		}
		out := renderDiags(c.Files(), diags)
		opts := EvalOptions{LookupEnv: envMap(map[string]string{"C": canary})}
		for _, st := range c.Stages() {
			d, ds := c.Evaluate(st, opts)
			out += renderDiags(c.Files(), ds)
			out += fmt.Sprint(ds.Error())
			if d != nil {
				out += fmt.Sprintf("%+v", *d)
				for _, s := range d.Secrets {
					out += fmt.Sprintf("%+v", *s)
				}
				for _, r := range d.Roles {
					out += fmt.Sprintf("%+v", *r)
				}
			}
		}
		if _, err := c.ResolveStage(""); err != nil {
			out += err.Error()
		}
		assertNoCanary(t, out, src, canary, "CANARY-7f3a", `{"x":"\u0001`)
	})
}
