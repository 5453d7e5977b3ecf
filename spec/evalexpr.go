package spec

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Marks protect values, not the text that HCL and cty build from them: a
// 'for' expression quotes a duplicate key, a conditional names the
// attributes of both branches' object types, a conversion error names the
// offending map key, and the diagnostic writer prints the values of the
// variables an expression refers to. So every evaluation in this package
// goes through evalExpr and every conversion through convertValue (a test
// enforces it), and their diagnostics lose all text built from values
// whenever the expression could have seen sensitive data.

// hiddenSummary replaces a summary that is not a proven constant.
const hiddenSummary = "Error in sensitive expression"

const (
	hiddenDetail        = "The expression uses a sensitive value (from env, file or filebase64), so the details of this error are hidden."
	hiddenPayloadDetail = "This expression computes a secret's payload, so the details of this error are hidden."
	hiddenConversion    = "the details are hidden because the value is sensitive"
)

// constantSummaries are the summaries that hclsyntax and hcl (ops.go) give
// expression-evaluation diagnostics, each a string constant in hcl v2.25.0.
// They name the kind of problem and never a value, so a hidden diagnostic
// keeps them. The match is exact, so even a summary that some future
// version built from a value could only pass by equalling one of these
// fixed texts.
var constantSummaries = map[string]bool{
	"Ambiguous attribute key":                  true,
	"Attempt to get attribute from null value": true,
	"Attempt to index null value":              true,
	"Call to unknown function":                 true,
	"Condition is null":                        true,
	"Duplicate object key":                     true,
	"Error in function call":                   true,
	"Function calls not allowed":               true,
	"Inconsistent conditional result types":    true,
	"Incorrect condition type":                 true,
	"Incorrect key type":                       true,
	"Invalid 'for' condition":                  true,
	"Invalid expanding argument value":         true,
	"Invalid expression":                       true,
	"Invalid function argument":                true,
	"Invalid index":                            true,
	"Invalid nested splat expressions":         true,
	"Invalid object key":                       true,
	"Invalid operand":                          true,
	"Invalid template interpolation value":     true,
	"Iteration over non-iterable value":        true,
	"Iteration over null value":                true,
	"Missing map element":                      true,
	"Not enough function arguments":            true,
	"Null condition":                           true,
	"Null value as key":                        true,
	"Operation failed":                         true,
	"Splat of null value":                      true,
	"Too many function arguments":              true,
	"Unknown variable":                         true,
	"Unsupported attribute":                    true,
	"Variables not allowed":                    true,
}

// namesOnlyDetails are the summaries whose details hcl v2.25.0 builds only
// from names: of functions and their parameters, and of variables in the
// source or at the top of the evaluation context (never the attributes of
// a value). A hidden diagnostic keeps these details, which say what to fix.
var namesOnlyDetails = map[string]bool{
	"Call to unknown function":      true,
	"Function calls not allowed":    true,
	"Not enough function arguments": true,
	"Too many function arguments":   true,
	"Unknown variable":              true,
	"Variables not allowed":         true,
}

// sourceFunctions are the functions whose results are sensitive.
var sourceFunctions = map[string]bool{"env": true, "file": true, "filebase64": true}

// evalExpr evaluates expr in ctx (which may be nil). When the evaluation
// fails and expr could have touched a sensitive value, or payload is set
// (a secret's value or binary, where even a literal is secret), every
// diagnostic keeps its location but loses its text (hideDiagnostics).
func evalExpr(expr hcl.Expression, ctx *hcl.EvalContext, payload bool) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if len(diags) > 0 && (payload || isSensitive(v) || touchesSensitive(expr, ctx)) {
		diags = hideDiagnostics(diags, payload)
	}
	return v, diags
}

// convertValue converts v to ty. On failure it returns the reason, which
// cty words with the path and type of the offending element (element
// "<key>": string required); when v is sensitive or hide is set, the reason
// is a fixed text instead.
func convertValue(v cty.Value, ty cty.Type, hide bool) (cty.Value, string) {
	conv, err := convert.Convert(v, ty)
	if err == nil {
		return conv, ""
	}
	if hide || isSensitive(v) {
		return cty.NilVal, hiddenConversion
	}
	return cty.NilVal, err.Error()
}

// touchesSensitive reports whether evaluating expr in ctx could see a
// sensitive value: a call to a payload source that ctx defines, or a
// reference whose value (as far as it resolves) carries the sensitive mark.
// Sensitive values enter an evaluation only through these two doors, so a
// syntax walk finds them all. Expressions that are not native syntax
// cannot be walked and count as sensitive.
func touchesSensitive(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return true
	}
	found := false
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.FunctionCallExpr:
			found = found || (sourceFunctions[n.Name] && hasFunction(ctx, n.Name))
		case *hclsyntax.ScopeTraversalExpr:
			found = found || traversalSensitive(n.Traversal, ctx)
		}
		return nil
	})
	return found
}

func hasFunction(ctx *hcl.EvalContext, name string) bool {
	for ; ctx != nil; ctx = ctx.Parent() {
		if _, ok := ctx.Functions[name]; ok {
			return true
		}
	}
	return false
}

// traversalSensitive follows t through ctx as far as it resolves and
// reports whether the value reached is sensitive: when a step fails, its
// message describes the value before it, so that value is the one to test.
// A root that ctx does not define (a 'for' or splat symbol) is not itself
// a source: its collection is part of the walked expression.
func traversalSensitive(t hcl.Traversal, ctx *hcl.EvalContext) bool {
	var v cty.Value
	found := false
	for c := ctx; c != nil && !found; c = c.Parent() {
		v, found = c.Variables[t.RootName()]
	}
	if !found {
		return false
	}
	for _, step := range t[1:] {
		next, diags := step.TraversalStep(v)
		if diags.HasErrors() {
			break
		}
		v = next
	}
	return isSensitive(v)
}

// hideDiagnostics replaces the text of each diagnostic by a fixed one that
// names the kind of problem only. The ranges stay, so file:line:col and the
// source snippet still point at the problem; Expression, EvalContext and
// Extra go, so that no writer can print "with var.x as …" or a function's
// error.
func hideDiagnostics(diags hcl.Diagnostics, payload bool) hcl.Diagnostics {
	detail := hiddenDetail
	if payload {
		detail = hiddenPayloadDetail
	}
	out := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		summary, det := hiddenSummary, detail
		if constantSummaries[d.Summary] {
			summary = d.Summary
		}
		if keptSourceError(d) || namesOnlyDetails[d.Summary] {
			det = d.Detail
		}
		out[i] = &hcl.Diagnostic{
			Severity: d.Severity,
			Summary:  summary,
			Detail:   det,
			Subject:  d.Subject,
			Context:  d.Context,
		}
	}
	return out
}

// keptSourceError reports whether d is HCL's report of a sourceError, whose
// Detail is `Call to function "env" failed: ` and the error's text: what
// the spec writes in clear only, so it stays (a missing environment
// variable must be named to be fixed).
func keptSourceError(d *hcl.Diagnostic) bool {
	extra, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d)
	if !ok || !sourceFunctions[extra.CalledFunctionName()] {
		return false
	}
	var se sourceError
	return errors.As(extra.FunctionCallError(), &se)
}
