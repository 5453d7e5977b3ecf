package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// readFile records a file that file() or filebase64() read.
func (e *evaluator) readFile(path, outside string) {
	e.files[path] = true
	if outside != "" {
		e.notes = append(e.notes, sourceNote{call: path, outside: outside})
	}
}

// gotSource hands a source value to the mask and notes a value too short
// to be masked.
func (e *evaluator) gotSource(call string, raw []byte) {
	if e.mask != nil {
		e.mask(append([]byte(nil), raw...))
	}
	if len(raw) < MinMaskedLength {
		e.notes = append(e.notes, sourceNote{call: call, short: true})
	}
}

// flushNotes turns the notes that evaluating expr left into warnings about
// owner (who reads the value: a secret, a stage variable), once each.
// skipShort drops the notes about short values, when a warning about the
// whole payload says it already.
func (e *evaluator) flushNotes(expr hcl.Expression, owner string, skipShort bool) {
	seen := map[sourceNote]bool{}
	for _, n := range e.notes {
		if seen[n] || (n.short && skipShort) {
			continue
		}
		seen[n] = true
		if n.short {
			e.diags = append(e.diags, warnDiag(callRange(expr, n.call), "Value too short to mask",
				"%s: the value of %s has fewer than %d bytes, too short to be masked in output; "+
					"if a bug ever printed it, nothing would catch it. Prefer values of at least %d bytes.",
				owner, n.call, MinMaskedLength, MinMaskedLength))
			continue
		}
		e.diags = append(e.diags, warnDiag(callRange(expr, n.call), "File outside the spec directory",
			"%s reads %s (%s), outside the spec directory. Make sure this spec is meant to read that file.",
			owner, n.call, n.outside))
	}
	e.notes = nil
}

// callRange finds the source call in expr that call describes (env("X")
// or, for a file, its path), to point a warning at it; else the whole
// expression.
func callRange(expr hcl.Expression, call string) hcl.Range {
	rng := expr.Range()
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return rng
	}
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		fc, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || !sourceFunctions[fc.Name] || len(fc.Args) != 1 {
			return nil
		}
		arg, ds := evalExpr(fc.Args[0], nil, false)
		if ds.HasErrors() || !arg.IsKnown() || arg.IsNull() || arg.Type() != cty.String {
			return nil
		}
		p := arg.AsString()
		if call == p || call == fmt.Sprintf("%s(%q)", fc.Name, p) {
			rng = fc.Range()
		}
		return nil
	})
	return rng
}
