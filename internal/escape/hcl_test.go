package escape_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/secretboot/secretboot/internal/escape"
)

// TestHCLQuoting round-trips strings through HCLString and HCLHeredoc and
// HCL's own parser: template sequences, which IAM policy variables look
// like, stay text.
func TestHCLQuoting(t *testing.T) {
	for _, s := range []string{
		"plain",
		"arn:aws:iam::111111111111:role/${aws:username}",
		"%{ if true }x%{ endif }",
		"$${already escaped}",
		"quote \" backslash \\ tab \t <html> & ünïcode",
		"{\n  \"EOT\": \"EOT\"\n}\n",
		"backspace \b form feed \f escaped \\b and \\f",
	} {
		src := "q = " + escape.HCLString(s) + "\nh = <<EOT\n" + escape.HCLHeredoc(s)
		if !strings.HasSuffix(s, "\n") {
			src += "\n"
		}
		src += "EOT\n"
		f, diags := hclsyntax.ParseConfig([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %v\n%s", s, diags, src)
		}
		for name, a := range f.Body.(*hclsyntax.Body).Attributes {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("%q: %s: %v", s, name, diags)
			}
			want := s
			if name == "h" && !strings.HasSuffix(s, "\n") {
				want += "\n" // a heredoc ends with its last line's newline
			}
			if v.AsString() != want {
				t.Errorf("%s of %q evaluates to %q", name, s, v.AsString())
			}
		}
	}
}
