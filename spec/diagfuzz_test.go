package spec

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// exprGen builds an HCL expression from a byte string: each byte picks a
// production of a small grammar over the payload sources. When the bytes
// run out every choice is 0, which is a leaf, so generation ends.
type exprGen struct {
	b []byte
	i int
}

func (g *exprGen) pick(n int) int {
	if g.i >= len(g.b) {
		return 0
	}
	v := int(g.b[g.i]) % n
	g.i++
	return v
}

// The grammar is typed (strings, lists, objects), so that most
// subexpressions evaluate and the failure happens where it can quote them:
// a leaky construct needs a well-formed sensitive operand. The atoms are
// the payload sources and the stage variables that hold payloads (s, o,
// l); bad wraps them in the constructs that fail.

func (g *exprGen) str(d int) string {
	if d <= 0 {
		return []string{`env("P")`, `file("p.txt")`, `var.s`, `filebase64("p.txt")`}[g.pick(4)]
	}
	s, l, o := func() string { return g.str(d - 1) }, func() string { return g.list(d - 1) }, func() string { return g.obj(d - 1) }
	switch g.pick(16) {
	case 0:
		return g.str(0)
	case 1:
		return fmt.Sprintf("%s(%s)", []string{"upper", "lower", "trimspace", "chomp", "title", "tostring", "strrev"}[g.pick(7)], s())
	case 2:
		return fmt.Sprintf(`"${%s}"`, s())
	case 3:
		return fmt.Sprintf(`format("%%s-%%s", %s, %s)`, s(), s())
	case 4:
		return fmt.Sprintf(`join(",", %s)`, l())
	case 5:
		return fmt.Sprintf("jsonencode(%s)", o())
	case 6:
		return fmt.Sprintf(`replace(%s, "a", %s)`, s(), s())
	case 7:
		return fmt.Sprintf("element(%s, 0)", l())
	case 8:
		return fmt.Sprintf(`lookup(%s, "b", %s)`, o(), s())
	case 9:
		return fmt.Sprintf("coalesce(%s, %s)", s(), s())
	case 10:
		return fmt.Sprintf("(%s != %s ? %s : %s)", s(), s(), s(), s())
	case 11:
		return fmt.Sprintf(`"%%{ for x in %s }${x}%%{ endfor }"`, l())
	case 12:
		return fmt.Sprintf(`trimprefix(%s, "C")`, s())
	case 13:
		return fmt.Sprintf("keys(%s)[0]", o())
	case 14:
		return fmt.Sprintf(`regex("[A-Z]+", %s)`, s())
	default:
		return fmt.Sprintf(`indent(2, %s)`, s())
	}
}

func (g *exprGen) list(d int) string {
	if d <= 0 {
		return []string{`var.l`, `split("\n", file("lines.txt"))`, `[env("P"), env("P")]`, `[var.s, file("p.txt")]`}[g.pick(4)]
	}
	s, l, o := func() string { return g.str(d - 1) }, func() string { return g.list(d - 1) }, func() string { return g.obj(d - 1) }
	switch g.pick(12) {
	case 0:
		return g.list(0)
	case 1:
		return fmt.Sprintf("[%s, %s]", s(), s())
	case 2:
		return fmt.Sprintf("concat(%s, %s)", l(), l())
	case 3:
		return fmt.Sprintf("%s(%s)", []string{"compact", "distinct", "sort", "reverse", "tolist", "flatten"}[g.pick(6)], l())
	case 4:
		return fmt.Sprintf("%s(%s)", []string{"keys", "values"}[g.pick(2)], o())
	case 5:
		return fmt.Sprintf("[for x in %s : upper(x)]", l())
	case 6:
		return fmt.Sprintf(`formatlist("%%s!", %s)`, l())
	case 7:
		return fmt.Sprintf("slice(%s, 0, 1)", l())
	case 8:
		return fmt.Sprintf(`split(",", %s)`, s())
	case 9:
		return fmt.Sprintf("%s[*]", o())
	case 10:
		return fmt.Sprintf(`regexall("[A-Za-z0-9]+", %s)`, s())
	default:
		return fmt.Sprintf("[for k, v in %s : k]", o())
	}
}

func (g *exprGen) obj(d int) string {
	if d <= 0 {
		return []string{`var.o`, `jsondecode(env("J"))`, `jsondecode(file("obj.json"))`, `{ (env("P")) = 1, b = "x" }`}[g.pick(4)]
	}
	s, l, o := func() string { return g.str(d - 1) }, func() string { return g.list(d - 1) }, func() string { return g.obj(d - 1) }
	switch g.pick(12) {
	case 0:
		return g.obj(0)
	case 1:
		return fmt.Sprintf("{ (%s) = %s, b = %s }", s(), s(), l())
	case 2:
		return fmt.Sprintf("{ for x in %s : x => 1 }", l())
	case 3:
		return fmt.Sprintf("{ for k, v in %s : v => k }", o())
	case 4:
		return fmt.Sprintf("merge(%s, %s)", o(), o())
	case 5:
		return fmt.Sprintf("tomap(%s)", o())
	case 6:
		return fmt.Sprintf("zipmap(%s, %s)", l(), l())
	case 7:
		return fmt.Sprintf("(%s == %s ? %s : %s)", s(), s(), o(), o())
	case 8:
		return fmt.Sprintf("{ for x in %s : x => x... }", l())
	case 9:
		return fmt.Sprintf(`{ for x in %s : upper(x) => lower(x) }`, l())
	case 10:
		return fmt.Sprintf("jsondecode(jsonencode(%s))", o())
	default:
		return fmt.Sprintf("{ a = %s, (%s) = %s }", o(), s(), l())
	}
}

// genFuncs are the allowed functions, in a stable order.
var genFuncs = func() []string {
	var names []string
	for n := range pureFunctions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

var genOps = []string{"+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||"}

// expr is a construct that is likely to fail on its sensitive operands.
func (g *exprGen) expr(d int) string {
	s, l, o := func() string { return g.str(d) }, func() string { return g.list(d) }, func() string { return g.obj(d) }
	a := func() string { return []func() string{s, l, o}[g.pick(3)]() }
	switch g.pick(25) {
	case 0, 22, 23, 24: // well-formed: conversions to a variable's type, payload checks
		return a()
	case 1:
		return fmt.Sprintf("%s.nokey", a())
	case 2:
		return fmt.Sprintf("%s[%s]", a(), a())
	case 3:
		return fmt.Sprintf("%s[*].a", a())
	case 4:
		return fmt.Sprintf(`"${%s}"`, a())
	case 5:
		return fmt.Sprintf("(%s %s %s)", a(), genOps[g.pick(len(genOps))], a())
	case 6:
		return fmt.Sprintf("%s(%s)", []string{"!", "-"}[g.pick(2)], a())
	case 7:
		return fmt.Sprintf("(%s ? %s : %s)", a(), a(), a())
	case 8:
		return fmt.Sprintf("[for x in %s : x if x]", a())
	case 9:
		return fmt.Sprintf("{ for x in %s : x => 1 }", a())
	case 10:
		return fmt.Sprintf("{ for k, v in %s : v => k }", a())
	case 11:
		return fmt.Sprintf("%s(%s)", []string{"tomap", "tolist", "toset", "tostring", "tonumber", "tobool"}[g.pick(6)], a())
	case 12, 13, 14:
		name := genFuncs[g.pick(len(genFuncs))]
		args := make([]string, 1+g.pick(3))
		for i := range args {
			args[i] = a()
		}
		return fmt.Sprintf("%s(%s)", name, strings.Join(args, ", "))
	case 15:
		return fmt.Sprintf("(%s == %s ? %s : %s)", s(), s(), o(), a())
	case 16:
		return fmt.Sprintf("{ (%s) = %s }", a(), a())
	case 17:
		return fmt.Sprintf("%s.%s", o(), "CANARYq7Zx3kW")
	case 18:
		return fmt.Sprintf("{ for x in %s : x => x if %s }", l(), a())
	case 19:
		return fmt.Sprintf(`"%%{ if %s }y%%{ endif }"`, a())
	case 20:
		return fmt.Sprintf("[%s, %s][%s]", a(), a(), a())
	default:
		return fmt.Sprintf("%s...", a()) // a syntax error must not quote either
	}
}

// genTypes are the declared types of variable "v", which the expression
// may set through the stage's vars, -var or SECRETBOOT_VAR_v.
var genTypes = []string{"any", "string", "number", "bool", "list(string)", "map(string)", "map(number)", "object({ a = string })", "list(map(bool))"}

// genRaw are -var and SECRETBOOT_VAR_ values that carry the canary.
var genRaw = []string{
	diagCanary, `"` + diagCanary + `"`, `{ ` + diagCanary + ` = [1] }`, `[` + `"` + diagCanary + `", [2]]`,
	`{ a = "` + diagCanary + `", ` + diagCanary + ` = { x = 1 } }`, `{ "` + diagCanary + `" = true }`,
}

// diagContexts place the expression (EXPR) where the spec evaluates it.
var diagContexts = []struct{ name, vars, role, payload string }{
	{"value", ``, ``, `value = EXPR`},
	{"binary", ``, ``, `binary = EXPR`},
	{"tag", ``, `tags = { t = EXPR }`, `value = "long enough"`},
	{"description", ``, `description = EXPR`, `value = "long enough"`},
	{"stage var", `v = EXPR`, ``, `value = jsonencode(var.v)`},
	{"generate length", ``, ``, "value = { a = \"long enough\" }\n  generate \"x\" { length = EXPR }"},
	{"describe", ``, ``, "value = \"long enough\"\n  describe = EXPR"},
	{"object field", ``, ``, `value = { a = EXPR, b = "x" }`},
}

// inVars spells the payload variables by their sources, for the stage's
// vars, where variables are not allowed.
var inVars = strings.NewReplacer(`var.s`, `env("P")`, `var.o`, `jsondecode(file("obj.json"))`, `var.l`, `split("\n", file("lines.txt"))`)

// diagSpec is the spec for expr in context ctx with variable v of type ty.
func diagSpec(ctx int, expr, ty string) string {
	c := diagContexts[ctx]
	c.vars = strings.ReplaceAll(c.vars, "EXPR", inVars.Replace(expr))
	return fmt.Sprintf(`project = "p"
stage "dev" {
  region = "us-east-1"
  vars = {
    s = env("P")
    o = jsondecode(file("obj.json"))
    l = split("\n", file("lines.txt"))
    %s
  }
}
variable "s" {}
variable "o" {}
variable "l" {}
variable "v" {
  type    = %s
  default = null
}
role "web" {
  %s
}
secret "app/s" {
  readers = [role.web]
  %s
}
`, strings.ReplaceAll(c.vars, "EXPR", expr), ty, strings.ReplaceAll(c.role, "EXPR", expr), strings.ReplaceAll(c.payload, "EXPR", expr))
}

// leakForms extends canaryForms with transformed spellings and pieces of
// the canary, which functions such as upper, strrev or substr produce.
func leakForms(canary string) []string {
	forms := canaryForms(canary)
	r := []rune(canary)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	for _, s := range []string{canary, strings.ToUpper(canary), strings.ToLower(canary), string(r)} {
		for i := 0; i+8 <= len(s); i++ {
			forms = append(forms, s[i:i+8])
		}
	}
	return forms
}

// diagHarness evaluates generated expressions in one spec directory.
type diagHarness struct {
	dir   string
	forms []string
	env   map[string]string
}

func newDiagHarness(tb testing.TB) *diagHarness {
	dir := tb.TempDir()
	files := map[string]string{
		"p.txt":     diagCanary,
		"obj.json":  fmt.Sprintf(`{"%s": [1], "b": "x"}`, diagCanary),
		"lines.txt": diagCanary + "\n" + diagCanary + "\nother\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return &diagHarness{dir: dir, forms: leakForms(diagCanary), env: map[string]string{
		"P": diagCanary, "J": fmt.Sprintf(`{"%s": "v"}`, diagCanary),
	}}
}

// check evaluates expr in every context and fails when any rendering of
// any diagnostic holds a form of the canary.
func (h *diagHarness) check(t *testing.T, expr string, ty, raw int) {
	t.Helper()
	for ctx := range diagContexts {
		src := diagSpec(ctx, expr, genTypes[ty%len(genTypes)])
		if err := os.WriteFile(filepath.Join(h.dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		c, diags := Load(h.dir)
		out := h.render(c.Files(), diags)
		if !diags.HasErrors() {
			rawVal := genRaw[raw%len(genRaw)]
			env := map[string]string{}
			for k, v := range h.env {
				env[k] = v
			}
			for _, opts := range []EvalOptions{
				{LookupEnv: envMap(env)},
				{LookupEnv: envMap(env), Vars: map[string]string{"v": rawVal}},
				{LookupEnv: envMap(map[string]string{"P": env["P"], "J": env["J"], "SECRETBOOT_VAR_v": rawVal})},
			} {
				_, ds := c.Evaluate("dev", opts)
				out += h.render(c.Files(), ds)
			}
		}
		for _, f := range h.forms {
			// A snippet may show what the spec itself writes.
			if strings.Contains(out, f) && !strings.Contains(src, f) {
				t.Fatalf("canary form %q in the diagnostics of %s = %s:\n%s", f, diagContexts[ctx].name, expr, out)
			}
		}
	}
}

// render is every way a diagnostic reaches a user: the text writer with
// snippets, Error(), and JSON of the fields (as validate -json prints).
func (h *diagHarness) render(files map[string]*hcl.File, diags hcl.Diagnostics) string {
	out := diagText(files, diags)
	for _, d := range diags {
		b, _ := json.Marshal(map[string]any{"summary": d.Summary, "detail": d.Detail, "range": d.Subject})
		out += string(b)
	}
	return out
}

// TestDiagnosticsHideSensitiveProperty runs the grammar from fixed seeds,
// so that every go test run covers the same few hundred expressions.
func TestDiagnosticsHideSensitiveProperty(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	h := newDiagHarness(t)
	rng := rand.New(rand.NewSource(10))
	for i := 0; i < n; i++ {
		b := make([]byte, 4+rng.Intn(40))
		rng.Read(b)
		expr := (&exprGen{b: b[2:]}).expr(2)
		h.check(t, expr, int(b[0]), int(b[1]))
	}
}

// FuzzDiagnosticsHideSensitive explores the same grammar from fuzzed bytes.
func FuzzDiagnosticsHideSensitive(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 1, 0},           // { for x in env("P") : x => 1 }
		{0, 2, 4, 12, 6, 1},    // conditional with sensitive objects
		{1, 3, 12, 20, 1, 6},   // a function over a source
		{5, 4, 13, 0, 0, 1},    // object with a computed key
		{7, 5, 16, 0, 9, 0, 0}, // grouping 'for'
	} {
		f.Add(seed)
	}
	h := newDiagHarness(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		h.check(t, (&exprGen{b: b[2:]}).expr(2), int(b[0]), int(b[1]))
	})
}
