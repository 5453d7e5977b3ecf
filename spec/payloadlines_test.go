package spec

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestOnPayloadLines(t *testing.T) {
	const src = `role "web" {
  description = "web tier"
}

secret "a" {
  readers = [role.web]
  value = {
    user = "app"
    pass = "hunter2-literal"
  }
}

secret "b" {
  binary = filebase64("k.der")
}
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "main.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	files := map[string]*hcl.File{"main.hcl": f}
	lines := func(from, to int) *hcl.Range {
		return &hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: from, Column: 1}, End: hcl.Pos{Line: to, Column: 1}}
	}
	for _, tt := range []struct {
		name string
		d    hcl.Diagnostic
		want bool
	}{
		{"a role's attribute", hcl.Diagnostic{Subject: lines(2, 2)}, false},
		{"readers, above the value", hcl.Diagnostic{Subject: lines(6, 6)}, false},
		{"the value's first line", hcl.Diagnostic{Subject: lines(7, 7)}, true},
		{"inside an object value", hcl.Diagnostic{Subject: lines(9, 9)}, true},
		{"a binary attribute", hcl.Diagnostic{Subject: lines(14, 14)}, true},
		{"a context that spans the value", hcl.Diagnostic{Subject: lines(5, 5), Context: lines(5, 11)}, true},
		{"no range", hcl.Diagnostic{}, false},
		{"another file", hcl.Diagnostic{Subject: &hcl.Range{Filename: "other.hcl", Start: hcl.Pos{Line: 9}, End: hcl.Pos{Line: 9}}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := OnPayloadLines(files, &tt.d); got != tt.want {
				t.Errorf("OnPayloadLines = %v, want %v", got, tt.want)
			}
		})
	}
}
