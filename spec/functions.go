package spec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// pureFunctions is the explicit allow-list of go-cty stdlib functions. Only
// listed functions exist in a spec; nothing reaches the network or the clock.
var pureFunctions = map[string]function.Function{
	"abs":          stdlib.AbsoluteFunc,
	"ceil":         stdlib.CeilFunc,
	"chomp":        stdlib.ChompFunc,
	"chunklist":    stdlib.ChunklistFunc,
	"coalesce":     stdlib.CoalesceFunc,
	"coalescelist": stdlib.CoalesceListFunc,
	"compact":      stdlib.CompactFunc,
	"concat":       stdlib.ConcatFunc,
	"contains":     stdlib.ContainsFunc,
	"csvdecode":    stdlib.CSVDecodeFunc,
	"distinct":     stdlib.DistinctFunc,
	"element":      stdlib.ElementFunc,
	"flatten":      stdlib.FlattenFunc,
	"floor":        stdlib.FloorFunc,
	"format":       stdlib.FormatFunc,
	"formatlist":   stdlib.FormatListFunc,
	"indent":       stdlib.IndentFunc,
	"index":        stdlib.IndexFunc,
	"join":         stdlib.JoinFunc,
	"jsondecode":   stdlib.JSONDecodeFunc,
	"jsonencode":   stdlib.JSONEncodeFunc,
	"keys":         stdlib.KeysFunc,
	"length":       stdlib.LengthFunc,
	"lookup":       stdlib.LookupFunc,
	"lower":        stdlib.LowerFunc,
	"max":          stdlib.MaxFunc,
	"merge":        stdlib.MergeFunc,
	"min":          stdlib.MinFunc,
	"parseint":     stdlib.ParseIntFunc,
	"range":        stdlib.RangeFunc,
	"regex":        stdlib.RegexFunc,
	"regexall":     stdlib.RegexAllFunc,
	"replace":      replaceFunc,
	"reverse":      stdlib.ReverseListFunc,
	"slice":        stdlib.SliceFunc,
	"sort":         stdlib.SortFunc,
	"split":        stdlib.SplitFunc,
	"strrev":       stdlib.ReverseFunc,
	"substr":       stdlib.SubstrFunc,
	"title":        stdlib.TitleFunc,
	"tobool":       stdlib.MakeToFunc(cty.Bool),
	"tolist":       stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"tomap":        stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tonumber":     stdlib.MakeToFunc(cty.Number),
	"toset":        stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tostring":     stdlib.MakeToFunc(cty.String),
	"trim":         stdlib.TrimFunc,
	"trimprefix":   stdlib.TrimPrefixFunc,
	"trimspace":    stdlib.TrimSpaceFunc,
	"trimsuffix":   stdlib.TrimSuffixFunc,
	"upper":        stdlib.UpperFunc,
	"values":       stdlib.ValuesFunc,
	"zipmap":       stdlib.ZipmapFunc,
}

// replaceFunc is Terraform's replace: a substring wrapped in slashes is a
// regular expression (RE2 syntax, "$1" references groups), otherwise the
// substring is replaced literally.
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces substr in str, treating /…/ as a regular expression.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		sub := args[1].AsString()
		if len(sub) > 1 && strings.HasPrefix(sub, "/") && strings.HasSuffix(sub, "/") {
			return stdlib.RegexReplaceFunc.Call([]cty.Value{args[0], cty.StringVal(sub[1 : len(sub)-1]), args[2]})
		}
		return stdlib.ReplaceFunc.Call(args)
	},
})

// sources is what the payload source functions need from an evaluation.
type sources struct {
	dir       string
	lookupEnv func(string) (string, bool)
	mask      func(secret []byte) // EvalOptions.Mask; may be nil
	// read is told every file that file() or filebase64() reads: the path
	// as written in the spec, and the resolved path when the file lies
	// outside the spec directory ("" otherwise).
	read func(path, outside string)
	// got is told every value a source returns, raw (a file's bytes for
	// filebase64); call names the source, as in env("DB_PASSWORD").
	got func(call string, raw []byte)
}

// functions returns the functions of a spec. The standard functions are
// wrapped by hideSensitive; the payload sources handle marks themselves.
func functions(src sources) map[string]function.Function {
	fns := make(map[string]function.Function, len(pureFunctions)+3)
	for name, f := range pureFunctions {
		fns[name] = hideSensitive(f, src.mask)
	}
	fns["env"] = envFunc(src)
	fns["file"] = fileFunc(src, false)
	fns["filebase64"] = fileFunc(src, true)
	return fns
}

// sourceError is the error of a payload source. It names the environment
// variable or the file, which the spec writes in clear (sensitive names and
// paths are refused), and never a value; so diagnostics keep its text where
// every other text around a sensitive value is hidden (keptSourceError).
type sourceError struct{ msg string }

func (e sourceError) Error() string { return e.msg }

func sourceErrorf(format string, args ...any) error {
	return sourceError{fmt.Sprintf(format, args...)}
}

// sourceArg returns the argument of a payload source, refusing a sensitive
// one: a reviewer must see which variable or file a spec reads.
func sourceArg(args []cty.Value, what string) (string, error) {
	if isSensitive(args[0]) {
		return "", sourceErrorf("the %s must be written in the spec, not computed from env, file or filebase64", what)
	}
	v, _ := args[0].UnmarkDeep()
	return v.AsString(), nil
}

// envFunc reads an environment variable. An unset variable is an error, never
// an empty string, so a missing CI secret cannot silently become an empty
// payload.
func envFunc(src sources) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, marked sensitive.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String, AllowMarked: true}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name, err := sourceArg(args, "name of an environment variable")
			if err != nil {
				return cty.NilVal, err
			}
			v, ok := src.lookupEnv(name)
			if !ok {
				return cty.NilVal, sourceErrorf("environment variable %s is not set", name)
			}
			src.got(fmt.Sprintf("env(%q)", name), []byte(v))
			if !utf8.ValidString(v) {
				return cty.NilVal, sourceErrorf("environment variable %s is not valid UTF-8", name)
			}
			return cty.StringVal(v).Mark(sensitive), nil
		},
	})
}

// fileFunc reads a file relative to the spec directory, as UTF-8 text or as
// base64.
func fileFunc(src sources, b64 bool) function.Function {
	desc, name := "Returns the contents of a file relative to the spec directory, marked sensitive.", "file"
	if b64 {
		desc, name = "Returns the base64-encoded contents of a file relative to the spec directory, marked sensitive.", "filebase64"
	}
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "path", Type: cty.String, AllowMarked: true}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := sourceArg(args, "path of a file")
			if err != nil {
				return cty.NilVal, err
			}
			b, outside, err := readPayloadFile(src.dir, p)
			if err != nil {
				return cty.NilVal, err
			}
			src.read(p, outside)
			src.got(fmt.Sprintf("%s(%q)", name, p), b)
			if b64 {
				enc := base64.StdEncoding.EncodeToString(b)
				if src.mask != nil {
					src.mask([]byte(enc))
				}
				return cty.StringVal(enc).Mark(sensitive), nil
			}
			if !utf8.Valid(b) {
				return cty.NilVal, sourceErrorf("%s is not valid UTF-8; use filebase64 for binary files", p)
			}
			return cty.StringVal(string(b)).Mark(sensitive), nil
		},
	})
}

// errHidden replaces the message of an error caused by a sensitive argument:
// stdlib errors quote their input (jsondecode shows the offending character,
// conversions and panics show the value), and HCL copies the message into a
// diagnostic.
const errHidden = "this argument is sensitive, so the details of the error are hidden"

// hideSensitive wraps f so that it accepts marked arguments, calls f on the
// unmarked values, re-applies every mark to the result, and, when an
// argument was sensitive, returns errors without their original message.
// When mask is not nil, it is given every string leaf of a sensitive result.
func hideSensitive(f function.Function, mask func([]byte)) function.Function {
	params := f.Params()
	for i := range params {
		params[i].AllowMarked = true
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		c := *vp
		c.AllowMarked = true
		varParam = &c
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    varParam,
		Type: func(args []cty.Value) (cty.Type, error) {
			plain, marks := unmarkArgs(args)
			ty, err := f.ReturnTypeForValues(plain)
			if err != nil {
				return cty.NilType, hideErr(err, marks)
			}
			return ty, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			plain, marks := unmarkArgs(args)
			v, err := f.Call(plain)
			if err != nil {
				return cty.NilVal, hideErr(err, marks)
			}
			if _, ok := marks[sensitive]; ok && mask != nil {
				maskLeaves(v, mask)
			}
			return v.WithMarks(marks), nil
		},
	})
}

// hideAllErrors wraps a standard function for payload expressions (value,
// binary): there its errors lose their message whatever the arguments, since
// a literal payload (allow_literal) is unmarked but no less secret, and
// stdlib errors quote their input ("cannot convert "…" to number").
func hideAllErrors(f function.Function, mask func([]byte)) function.Function {
	inner := hideSensitive(f, mask)
	always := cty.NewValueMarks(sensitive)
	return function.New(&function.Spec{
		Description: inner.Description(),
		Params:      inner.Params(),
		VarParam:    inner.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			ty, err := inner.ReturnTypeForValues(args)
			if err != nil {
				return cty.NilType, hideErr(err, always)
			}
			return ty, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := inner.Call(args)
			if err != nil {
				return cty.NilVal, hideErr(err, always)
			}
			return v, nil
		},
	})
}

func unmarkArgs(args []cty.Value) ([]cty.Value, cty.ValueMarks) {
	plain := make([]cty.Value, len(args))
	marks := cty.ValueMarks{}
	for i, a := range args {
		u, m := a.UnmarkDeep()
		plain[i] = u
		for k := range m {
			marks[k] = struct{}{}
		}
	}
	return plain, marks
}

func hideErr(err error, marks cty.ValueMarks) error {
	if _, ok := marks[sensitive]; !ok {
		return err
	}
	var ae function.ArgError
	if errors.As(err, &ae) {
		return function.NewArgErrorf(ae.Index, errHidden)
	}
	return errors.New(errHidden)
}

// maskLeaves gives mask a copy of every known string inside v (unmarked).
func maskLeaves(v cty.Value, mask func([]byte)) {
	_ = cty.Walk(v, func(_ cty.Path, el cty.Value) (bool, error) {
		if el.Type() == cty.String && el.IsKnown() && !el.IsNull() {
			mask([]byte(el.AsString()))
		}
		return true, nil
	})
}
