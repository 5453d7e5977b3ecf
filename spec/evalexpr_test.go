package spec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvaluationsGoThroughEvalExpr keeps the redaction structural: outside
// evalexpr.go, no code of the package calls an expression's Value method or
// convert.Convert directly, so every evaluation and conversion passes
// through evalExpr and convertValue.
func TestEvaluationsGoThroughEvalExpr(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "evalexpr.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, _ := sel.X.(*ast.Ident)
			switch {
			case sel.Sel.Name == "Value" && len(call.Args) == 1:
				t.Errorf("%s: evaluates an expression without evalExpr", fset.Position(call.Pos()))
			case pkg != nil && pkg.Name == "convert":
				t.Errorf("%s: converts a value without convertValue", fset.Position(call.Pos()))
			case pkg != nil && (pkg.Name == "gohcl" || pkg.Name == "hcldec"):
				t.Errorf("%s: decodes with %s, whose diagnostics are not hidden", fset.Position(call.Pos()), pkg.Name)
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}
