package spec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// payload evaluates value, binary and the generate blocks of a secret into
// a Payload with sealed bytes. No diagnostic here quotes a payload value.
func (e *evaluator) payload(sc *SecretConfig) Payload {
	var p Payload
	p.Generators = e.generators(sc)
	if e.skipPayloads {
		return p
	}
	fields := map[string]bool{}
	labelled := false
	for _, g := range p.Generators {
		if g.Field != "" {
			fields[g.Field] = true
			labelled = true
		}
	}
	// Notes about the source calls of value or binary become warnings once
	// the payload is known: a short payload makes short sources redundant.
	var expr hcl.Expression
	short := false
	defer func() {
		if expr != nil {
			e.flushNotes(expr, fmt.Sprintf("Secret %q", sc.Name), short)
		}
	}()
	switch {
	case sc.attrs["value"] != nil:
		attr := sc.attrs["value"]
		expr = attr.Expr
		v, ok := e.payloadValue(attr)
		if !ok {
			return p
		}
		u, sens := sensitivePaths(v)
		switch {
		case u.Type() == cty.String:
			if labelled {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Object payload required",
					"Labelled generate blocks add fields to a JSON object, so value must be an object such as { username = \"app\" }."))
				return p
			}
			p.Kind = KindString
			p.Declared = SealString(u.AsString())
			short = e.noteDeclared(sc, attr, p, u, sens)
			e.checkLiteralString(sc, attr, len(sens) > 0)
		case u.Type().IsObjectType() || u.Type().IsMapType():
			p.Kind = KindObject
			// Keys computed from a sensitive value mark the whole object:
			// then the declared names are as secret as the values.
			p.FieldsHidden = underAny(nil, sens)
			for it := u.ElementIterator(); it.Next(); {
				k, _ := it.Element()
				name := k.AsString()
				if fields[name] {
					if p.FieldsHidden {
						e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Field declared and generated",
							"A field of value is also in a generate block; keep one."))
					} else {
						e.diags = append(e.diags, errDiag(objectItemRange(attr.Expr, name), "Field declared and generated",
							"Field %q is both in value and in a generate block; keep one.", name))
					}
				}
				if !p.FieldsHidden {
					fields[name] = true
				}
			}
			b, err := canonicalJSON(u)
			if err != nil {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid payload", "The value cannot be encoded as JSON."))
				return p
			}
			p.Declared = Seal(b)
			short = e.noteDeclared(sc, attr, p, u, sens)
			e.checkLiteralObject(sc, attr, u, sens)
		default:
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid payload type",
				"value must be a string or an object; this is %s.", u.Type().FriendlyName()))
			return p
		}
	case sc.attrs["binary"] != nil:
		attr := sc.attrs["binary"]
		expr = attr.Expr
		v, ok := e.payloadValue(attr)
		if !ok {
			return p
		}
		u, sens := sensitivePaths(v)
		if u.Type() != cty.String {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid payload type",
				"binary must be a base64 string, such as filebase64(\"cert.der\")."))
			return p
		}
		b, err := base64.StdEncoding.DecodeString(u.AsString())
		if err != nil {
			// err quotes the offending byte offset only, but say less anyway.
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid base64", "binary must be standard base64 (RFC 4648, with padding)."))
			return p
		}
		p.Kind = KindBinary
		p.Declared = Seal(b)
		short = e.noteDeclared(sc, attr, p, u, sens)
		e.checkLiteralString(sc, attr, len(sens) > 0)
	case labelled:
		p.Kind = KindObject
	default:
		p.Kind = KindString // one unlabelled generator: the whole payload
	}
	if p.Kind == KindObject {
		for f := range fields {
			p.Fields = append(p.Fields, f)
		}
		sort.Strings(p.Fields)
	}
	e.checkPayloadSize(sc, p)
	return p
}

// payloadValue evaluates value or binary; the result may be sensitive.
func (e *evaluator) payloadValue(attr *hcl.Attribute) (cty.Value, bool) {
	if e.undeclaredVars(attr.Expr) {
		return cty.NilVal, false
	}
	v, ds := evalExpr(attr.Expr, e.payloadContext(), true)
	e.diags = append(e.diags, ds...)
	if ds.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Missing payload", "%s is null.", attr.Name))
		return cty.NilVal, false
	}
	return v, true
}

// payloadContext is the evaluation context of value and binary: the
// standard functions there hide every error's details (hideAllErrors);
// env, file and filebase64 keep theirs, which name a variable or path only
// (see keptSourceError). It is built once per evaluation: wrapping every
// standard function anew for each payload was a fifth of validate's time
// at 10,000 secrets.
func (e *evaluator) payloadContext() *hcl.EvalContext {
	if e.payloadCtx != nil {
		return e.payloadCtx
	}
	fns := make(map[string]function.Function, len(e.fns))
	for name, f := range e.fns {
		fns[name] = f
	}
	for name, f := range pureFunctions {
		fns[name] = hideAllErrors(f, e.mask)
	}
	e.payloadCtx = &hcl.EvalContext{Variables: e.ctx.Variables, Functions: fns}
	return e.payloadCtx
}

// noteDeclared hands a declared payload to the mask and warns when it is
// too short to be masked; it reports whether it warned.
func (e *evaluator) noteDeclared(sc *SecretConfig, attr *hcl.Attribute, p Payload, u cty.Value, sens []cty.Path) bool {
	if e.mask != nil {
		e.mask(p.Declared.Reveal())
		if p.Kind == KindObject {
			_ = cty.Walk(u, func(path cty.Path, el cty.Value) (bool, error) {
				if el.Type() == cty.String && !el.IsNull() && (sc.AllowLiteral || underAny(path, sens)) {
					e.mask([]byte(el.AsString()))
				}
				return true, nil
			})
		}
	}
	if n := p.Declared.Len(); n == 0 || n >= MinMaskedLength {
		return false
	}
	e.diags = append(e.diags, warnDiag(attr.Expr.Range(), "Payload too short to mask",
		"Secret %q: the declared payload has fewer than %d bytes, too short to be masked in output; "+
			"if a bug ever printed it, nothing would catch it. Prefer payloads of at least %d bytes.",
		sc.Name, MinMaskedLength, MinMaskedLength))
	return true
}

func (e *evaluator) checkPayloadSize(sc *SecretConfig, p Payload) {
	size := p.Declared.Len()
	if p.Kind == KindObject {
		if size == 0 {
			size = len("{}")
		}
		for _, g := range p.Generators {
			key, _ := json.Marshal(g.Field)
			size += len(`,:""`) + len(key) + g.Length*g.maxEncodedRuneLen()
		}
	} else if len(p.Generators) == 1 {
		size = p.Generators[0].Length
	}
	switch {
	case size == 0:
		e.diags = append(e.diags, errDiag(sc.DeclRange, "Empty payload", "Secrets Manager needs at least one byte of payload."))
	case size > maxPayload:
		e.diags = append(e.diags, errDiag(sc.DeclRange, "Payload too large",
			"The encoded payload can reach %d bytes; Secrets Manager allows %d.", size, maxPayload))
	}
}

// checkLiteralString refuses a string or binary payload written into the
// spec when the secret's name says it is a credential.
func (e *evaluator) checkLiteralString(sc *SecretConfig, attr *hcl.Attribute, sensitive bool) {
	if sensitive || sc.AllowLiteral || !credentialRe.MatchString(sc.Name) {
		return
	}
	e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Literal credential in spec",
		"Secret %q looks like a credential but its %s is written into the spec. Read it with env(), file() or filebase64(), generate it, or set allow_literal = true.",
		sc.Name, attr.Name))
}

// checkLiteralObject refuses object fields whose key says credential and
// whose value holds a literal (not sensitive) part.
func (e *evaluator) checkLiteralObject(sc *SecretConfig, attr *hcl.Attribute, v cty.Value, sens []cty.Path) {
	if sc.AllowLiteral {
		return
	}
	reported := map[string]bool{}
	_ = cty.Walk(v, func(path cty.Path, el cty.Value) (bool, error) {
		key, ok := lastKey(path)
		if !ok || !credentialRe.MatchString(key) || !hasLiteralLeaf(path, el, sens) {
			return true, nil
		}
		top, _ := lastKey(path[:1])
		e.diags = append(e.diags, literalField(objectItemRange(attr.Expr, top), key, sc.Name))
		reported[key] = true
		return false, nil
	})
	// A sensitive key marks its whole object, and a sensitive argument the
	// whole result of a function (merge(jsondecode(file(…)), { … })), so the
	// walk above cannot tell literal fields below such a mark from the
	// sensitive ones. The object constructors of the expression can.
	for _, p := range sens {
		if el, err := p.Apply(v); err == nil && !el.Type().IsPrimitiveType() {
			e.checkLiteralItems(sc, attr, reported)
			return
		}
	}
}

// checkLiteralItems refuses items of object constructors in a payload
// expression whose key is a constant that says credential and whose value
// is computed from constants and non-sensitive variables only.
func (e *evaluator) checkLiteralItems(sc *SecretConfig, attr *hcl.Attribute, reported map[string]bool) {
	node, ok := attr.Expr.(hclsyntax.Node)
	if !ok {
		return
	}
	_ = hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		oc, ok := n.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		for _, item := range oc.Items {
			k, ds := evalExpr(item.KeyExpr, nil, false)
			if ds.HasErrors() {
				// A computed key, possibly from a payload source: its
				// name decides whether a literal value is a credential.
				k, ds = evalExpr(item.KeyExpr, &hcl.EvalContext{Variables: e.ctx.Variables, Functions: e.quietFns}, true)
			}
			if ds.HasErrors() || !k.IsWhollyKnown() || k.IsNull() {
				continue
			}
			k, keyMarks := k.UnmarkDeep()
			if k.Type() != cty.String {
				continue
			}
			key := k.AsString()
			if reported[key] || !credentialRe.MatchString(key) || !e.literalExpr(item.ValueExpr) {
				continue
			}
			reported[key] = true
			rng := hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			if _, hidden := keyMarks[sensitive]; hidden {
				e.diags = append(e.diags, errDiag(rng, "Literal credential in spec",
					"A field of secret %q whose name is computed from a sensitive value looks like a credential, but its value is written into the spec. Read it with env() or file(), generate it, or set allow_literal = true.",
					sc.Name))
				continue
			}
			e.diags = append(e.diags, literalField(rng, key, sc.Name))
		}
		return nil
	})
}

// literalExpr reports whether expr is built from constants and
// non-sensitive variables only, and is not the constant null. A symbol of a
// 'for' or splat expression might stand for anything, so it counts as not
// literal.
func (e *evaluator) literalExpr(expr hclsyntax.Expression) bool {
	if lit, ok := expr.(*hclsyntax.LiteralValueExpr); ok && lit.Val.IsNull() {
		return false
	}
	literal := true
	_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.FunctionCallExpr:
			literal = literal && !sourceFunctions[n.Name]
		case *hclsyntax.ScopeTraversalExpr:
			_, declared := e.ctx.Variables[n.Traversal.RootName()]
			literal = literal && declared && !traversalSensitive(n.Traversal, e.ctx)
		case *hclsyntax.AnonSymbolExpr:
			literal = false
		}
		return nil
	})
	return literal
}

func literalField(rng hcl.Range, key, secret string) *hcl.Diagnostic {
	return errDiag(rng, "Literal credential in spec",
		"Field %q of secret %q looks like a credential but is written into the spec. Read it with env() or file(), generate it, or set allow_literal = true.",
		key, secret)
}

// lastKey is the attribute or map key of the last step of path.
func lastKey(path cty.Path) (string, bool) {
	if len(path) == 0 {
		return "", false
	}
	switch s := path[len(path)-1].(type) {
	case cty.GetAttrStep:
		return s.Name, true
	case cty.IndexStep:
		if s.Key.Type() == cty.String {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// hasLiteralLeaf reports whether a non-null primitive below base (at path)
// carries no sensitive mark.
func hasLiteralLeaf(path cty.Path, base cty.Value, sens []cty.Path) bool {
	if underAny(path, sens) {
		return false
	}
	found := false
	_ = cty.Walk(base, func(sub cty.Path, el cty.Value) (bool, error) {
		full := append(path.Copy(), sub...)
		if underAny(full, sens) {
			return false, nil
		}
		if el.Type().IsPrimitiveType() && !el.IsNull() {
			found = true
		}
		return !found, nil
	})
	return found
}

// objectItemRange finds the item of an object constructor with the given
// key, for a precise diagnostic; it falls back to the whole expression.
func objectItemRange(expr hcl.Expression, key string) hcl.Range {
	oc, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return expr.Range()
	}
	for _, item := range oc.Items {
		k, ds := evalExpr(item.KeyExpr, nil, false)
		if !ds.HasErrors() && k.Type() == cty.String && !k.IsMarked() && k.AsString() == key {
			return hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
		}
	}
	return expr.Range()
}

func (e *evaluator) generators(sc *SecretConfig) []Generator {
	var gens []Generator
	for _, gc := range sc.Generators {
		g := Generator{Field: gc.Field, Length: 32, Upper: true, Lower: true, Numeric: true, Special: true, DeclRange: gc.DeclRange}
		if attr, ok := gc.attrs["length"]; ok {
			if n, ok := e.int(attr); ok {
				g.Length = n
				if n < 1 || n > maxGeneratorLength {
					e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid generator length",
						"length must be a whole number from 1 to %d.", maxGeneratorLength))
				}
			}
		}
		for _, class := range []struct {
			name string
			dst  *bool
		}{{"upper", &g.Upper}, {"lower", &g.Lower}, {"numeric", &g.Numeric}, {"special", &g.Special}} {
			if attr, ok := gc.attrs[class.name]; ok {
				*class.dst = e.bool(attr, true)
			}
		}
		if attr, ok := gc.attrs["exclude_characters"]; ok {
			g.ExcludeCharacters, _ = e.str(attr)
		}
		if len(g.charset()) == 0 {
			e.diags = append(e.diags, errDiag(gc.DeclRange, "Empty character set",
				"After upper, lower, numeric, special and exclude_characters, no character is left to generate from."))
		}
		gens = append(gens, g)
	}
	return gens
}

// canonicalJSON encodes an unmarked, known value as JSON with sorted keys,
// no insignificant space and no HTML escaping.
func canonicalJSON(v cty.Value) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(toGo(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// toGo converts a cty value to the types encoding/json sorts and encodes
// canonically; numbers keep their exact decimal form.
func toGo(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			return json.Number(bf.Text('f', 0))
		}
		f, _ := bf.Float64()
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case ty.IsObjectType() || ty.IsMapType():
		m := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			m[k.AsString()] = toGo(el)
		}
		return m
	default: // list, set, tuple
		s := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			s = append(s, toGo(el))
		}
		return s
	}
}
