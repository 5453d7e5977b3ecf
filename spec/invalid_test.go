package spec

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

var markerRe = regexp.MustCompile(`#\s*(ERROR|WARNING):\s*(.+?)\s*$`)

// TestInvalidSpecs loads and evaluates every spec under testdata/invalid and
// compares the diagnostics with the "# ERROR: summary" and
// "# WARNING: summary" markers on the lines they must point at.
func TestInvalidSpecs(t *testing.T) {
	dirs, err := filepath.Glob("testdata/invalid/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 30 {
		t.Fatalf("only %d invalid specs; the corpus needs at least 30", len(dirs))
	}
	env := envMap(map[string]string{"SET": "CANARY-from-env"})
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := markers(t, dir)
			if len(want) == 0 {
				t.Fatal("no # ERROR: or # WARNING: marker")
			}
			c, diags := Load(dir)
			if !diags.HasErrors() {
				for _, st := range c.Stages() {
					_, ds := c.Evaluate(st, EvalOptions{LookupEnv: env})
					diags = append(diags, ds...)
				}
			}
			var got []string
			seen := map[string]bool{}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a source range: %s", d.Summary)
					continue
				}
				k := fmt.Sprintf("%s:%d: %s: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, severity(d), d.Summary)
				if !seen[k] {
					got = append(got, k)
				}
				seen[k] = true
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\nrendered:\n%s", diff, renderDiags(c.Files(), diags))
			}
			if out := renderDiags(c.Files(), diags); strings.Contains(out, "CANARY") {
				t.Errorf("a sensitive value reached the diagnostics:\n%s", out)
			}
		})
	}
}

func severity(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return "WARNING"
	}
	return "ERROR"
}

func markers(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for line := 1; sc.Scan(); line++ {
			if m := markerRe.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, fmt.Sprintf("%s:%d: %s: %s", filepath.Base(f), line, m[1], m[2]))
			}
		}
		fh.Close()
	}
	sort.Strings(out)
	return out
}

// TestDiagnosticsWithoutSource covers the rules whose input has no source
// range: command-line variables and whole-spec problems.
func TestDiagnosticsWithoutSource(t *testing.T) {
	spec := `
project = "p"
stage "dev" { region = "us-east-1" }
variable "port" { type = number }
variable "hosts" {
  type    = list(string)
  default = []
}
role "web" {}
secret "s" {
  readers = [role.web]
  value   = { port = var.port }
}`
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": spec}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	tests := []struct {
		name string
		opts EvalOptions
		want []string
	}{
		{"undeclared -var", EvalOptions{Vars: map[string]string{"port": "1", "prot": "1"}}, []string{"error: Undeclared variable"}},
		{"wrong -var type", EvalOptions{Vars: map[string]string{"port": "CANARY"}}, []string{"error: Invalid value for variable"}},
		{"wrong env type", EvalOptions{LookupEnv: envMap(map[string]string{"SECRETBOOT_VAR_port": "CANARY"})}, []string{"error: Invalid value for variable"}},
		{"unparsable -var", EvalOptions{Vars: map[string]string{"port": "1", "hosts": "[CANARY"}}, []string{"error: Invalid value for variable"}},
		{"list -var", EvalOptions{Vars: map[string]string{"port": "1", "hosts": `["a", "b"]`}}, nil},
		{"number from env", EvalOptions{LookupEnv: envMap(map[string]string{"SECRETBOOT_VAR_port": "8080"})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.LookupEnv == nil {
				tt.opts.LookupEnv = envMap(nil)
			}
			_, diags := c.Evaluate("dev", tt.opts)
			if diff := cmp.Diff(tt.want, summaries(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if out := renderDiags(c.Files(), diags); strings.Contains(out, "CANARY") {
				t.Errorf("a variable value reached the diagnostics:\n%s", out)
			}
		})
	}
	t.Run("unknown stage", func(t *testing.T) {
		_, diags := c.Evaluate("qa", EvalOptions{})
		if diff := cmp.Diff([]string{"error: Unknown stage"}, summaries(diags)); diff != "" {
			t.Errorf("diagnostics (-want +got):\n%s", diff)
		}
	})
	t.Run("missing project", func(t *testing.T) {
		_, diags := Load(writeSpec(t, map[string]string{"main.hcl": `stage "dev" { region = "us-east-1" }`}))
		if diff := cmp.Diff([]string{"error: Missing project"}, summaries(diags)); diff != "" {
			t.Errorf("diagnostics (-want +got):\n%s", diff)
		}
	})
}
