package spec

import (
	"strings"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"descripton", schemaNames(secretSchema), ` Did you mean "description"?`},
		{"reader", schemaNames(secretSchema), ` Did you mean "readers"?`},
		{"generat", []string{"generate"}, ` Did you mean "generate"?`},
		{"ap", []string{"app", "worker"}, ` Did you mean "app"?`},
		{"completely_else", schemaNames(secretSchema), ""},
		{"x", nil, ""},
		// Equally close candidates: the first in sorted order, every run.
		{"ab", []string{"ac", "aa"}, ` Did you mean "aa"?`},
	}
	for _, tt := range tests {
		if got := didYouMean(tt.name, tt.candidates); got != tt.want {
			t.Errorf("didYouMean(%q, %v) = %q, want %q", tt.name, tt.candidates, got, tt.want)
		}
	}
}

// TestMisspellingsSuggest: the misspellings a new user makes in a secret
// block and a reader each say what was meant (a variable's: see
// TestHiddenDiagnosticsSayWhatToFix).
func TestMisspellingsSuggest(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": `
project = "shop"
stage "dev" {
  region = "us-east-1"
}
role "app" {}
secret "app/config" {
  descripton = "settings"
  readers    = [role.ap]
  value      = { key = env("STRIPE_KEY") }
  generat "token" {}
}
`})
	c, diags := Load(dir)
	out := renderDiags(c.Files(), diags)
	for _, want := range []string{
		`An argument named "descripton" is not expected in a secret block. Did you mean "description"?`,
		`Blocks of type "generat" are not expected in a secret block. Did you mean "generate"?`,
		`No role block is named "ap". Did you mean "app"?`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
