package leaktest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// fuzzCanaries (from env and files) and fuzzLiterals (written into the
// spec) are fixed, so that a failing input reproduces exactly; the fuzzer
// drives the spec, not the payload bytes.
var (
	fuzzCanaries = []string{
		`CNRY-fz0 q"b\s/p+a&l<g>é z`,
		`CNRY-fz1 {"k": "v"} \u0041 ${x}`,
		"CNRY-fz2 tab\there\nline two",
	}
	fuzzLiterals = []string{
		`CNRY-lit0 q"b\s/p+a&l<g>é z`,
		`CNRY-lit1 {"k": "v"} %{y}`,
	}
)

// choices reads decisions from the fuzzer's bytes; exhausted input reads
// as zeros.
type choices struct{ b []byte }

func (c *choices) next(n int) int {
	if len(c.b) == 0 || n <= 1 {
		return 0
	}
	v := int(c.b[0]) % n
	c.b = c.b[1:]
	return v
}

// name takes up to 16 name characters from the input.
func (c *choices) name(i int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABC0123456789/_+=.@-"
	n := c.next(17)
	if n == 0 {
		return fmt.Sprintf("s%d", i%4)
	}
	var sb strings.Builder
	for range n {
		sb.WriteByte(alphabet[c.next(len(alphabet))])
	}
	return sb.String()
}

// fuzzSpec builds a spec from the choices: secrets with payloads from every
// source, nested into objects and passed through functions; now and then a
// mistake that makes evaluation fail near a payload.
func fuzzSpec(c *choices, dir string) (string, error) {
	var sb strings.Builder
	sb.WriteString(specHeader + "\nrole \"worker\" {}\n")
	sources := []func(i int) (string, error){
		func(i int) (string, error) { return fmt.Sprintf(`env("FZ_%d")`, i%len(fuzzCanaries)), nil },
		func(i int) (string, error) {
			return fmt.Sprintf(`file("p%d.txt")`, i), os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.txt", i)), []byte(fuzzCanaries[i%len(fuzzCanaries)]), 0o600)
		},
		func(i int) (string, error) { return hclString(fuzzLiterals[i%len(fuzzLiterals)]), nil },
		func(i int) (string, error) {
			return fmt.Sprintf(`jsondecode(file("j%d.json"))`, i), os.WriteFile(filepath.Join(dir, fmt.Sprintf("j%d.json", i)),
				[]byte(fmt.Sprintf(`{"token": %q}`, fuzzCanaries[i%len(fuzzCanaries)])), 0o600)
		},
	}
	transforms := []string{"%s", "upper(%s)", "lower(%s)", "jsonencode(%s)", `format("pre-%%s-post", %s)`, `join(",", [%s, "x"])`,
		"tostring(%s)", "tonumber(%s)", `jsondecode(%s)`, `{ nested = { v = %s } }`}
	n := 1 + c.next(5)
	for i := range n {
		fmt.Fprintf(&sb, "\nsecret %q {\n  readers = [role.%s]\n", c.name(i), []string{"web", "worker", "web, role.worker", "web", "worker", "web", "worker", "missing"}[c.next(8)])
		if c.next(2) == 1 {
			sb.WriteString("  allow_literal = true\n")
		}
		switch c.next(16) {
		case 1:
			sb.WriteString("  generate {}\n}\n")
			continue
		case 2:
			p := fmt.Sprintf("b%d.bin", i)
			if err := os.WriteFile(filepath.Join(dir, p), append([]byte(fuzzCanaries[i%len(fuzzCanaries)]), 0xff, 0x00), 0o600); err != nil {
				return "", err
			}
			fmt.Fprintf(&sb, "  binary = filebase64(%q)\n}\n", p)
			continue
		case 14: // a payload where none belongs
			fmt.Fprintf(&sb, "  description = env(\"FZ_%d\")\n", i%len(fuzzCanaries))
		case 15:
			fmt.Fprintf(&sb, "  tags = { t = env(\"FZ_%d\") }\n", i%len(fuzzCanaries))
		}
		src, err := sources[c.next(len(sources))](i)
		if err != nil {
			return "", err
		}
		expr := fmt.Sprintf(transforms[c.next(len(transforms))], src)
		if c.next(2) == 1 {
			expr = fmt.Sprintf(transforms[c.next(len(transforms))], expr)
		}
		object := false
		switch c.next(8) {
		case 1, 2, 3:
			expr = fmt.Sprintf(`{ username = "app", password = %s }`, expr)
			object = true
		case 7:
			expr = fmt.Sprintf(`{ a = %s, b = env("FZ_UNSET") }`, expr)
		}
		fmt.Fprintf(&sb, "  value = %s\n", expr)
		if object && c.next(2) == 1 {
			fmt.Fprintf(&sb, "  generate %q {}\n", []string{"password", "username", "extra"}[c.next(3)])
		}
		sb.WriteString("}\n")
	}
	// Now and then a replicated secret under customer managed keys. The
	// choice is the last one made, so that the inputs kept in
	// testdata/fuzz still build the specs they were found with.
	if c.next(4) == 1 {
		fmt.Fprintf(&sb, "\nsecret \"cmk\" {\n  readers     = [role.web]\n  kms_key_arn = %q\n  replicas    = { %q = { kms_key_arn = %q } }\n"+
			"  value       = { token = env(\"FZ_0\") }\n}\n", mainKey, replicaRegions[0], replicaKey)
	}
	return sb.String(), nil
}

// FuzzNoLeak builds random specs around canary payloads and runs validate
// and plan in-process against a sandbox that already holds some of the
// stage's secrets, checking diagnostics, errors, every plan rendering and
// the saved plan file.
func FuzzNoLeak(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {1, 0, 0, 1}, {2, 3, 1, 0, 1, 4, 1, 5}, {4, 0, 0, 4, 2, 3, 9, 1, 2, 0},
		{3, 5, 2, 1, 1, 7, 3, 1, 1, 1, 0, 0, 2, 2, 2, 6, 6, 6, 1, 1},
		[]byte("some random secret names/and more"),
		{4, 0, 2, 0, 3, 1, 1, 1, 2, 0, 2, 4, 0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 1, 5, 0, 0},
		{0, 1, 0, 0, 0, 2, 4, 2, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 6, 0, 1, 2, 0, 0, 0, 0, 9, 0, 0},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, // one secret, and the one under customer managed keys
	} {
		f.Add(seed)
	}
	env := sandboxtest.Start(f, sandbox.Options{Account: account, Region: region, Regions: replicaRegions, KMSKeys: []string{mainKey, replicaKey}})
	ctx := context.Background()
	s, err := provision.Connect(ctx, provision.ConnectOptions{
		Stage: "dev", Region: region, AccountID: account, Endpoint: env.URL,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
	})
	if err != nil {
		f.Fatal(err)
	}
	lookup := func(k string) (string, bool) {
		for i, c := range fuzzCanaries {
			if k == fmt.Sprintf("FZ_%d", i) {
				return c, true
			}
		}
		return "", false
	}
	// Some owned secrets exist, so plans show updates as well as creations.
	base := f.TempDir()
	if err := os.WriteFile(filepath.Join(base, "main.hcl"), []byte(specHeader+`
secret "s0" {
  readers = [role.web]
  value   = "base"
}

secret "s1" {
  readers = [role.web]
  generate {}
}
`), 0o600); err != nil {
		f.Fatal(err)
	}
	d := evaluate(f, base, lookup)
	if d == nil {
		f.Fatal("the base spec does not evaluate")
	}
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		f.Fatal(err)
	}
	p, err := provision.Diff(d, o, provision.DiffOptions{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{}); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		src, err := fuzzSpec(&choices{data}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		// Snippets quote the spec's source, and a literal payload is source:
		// the CLI drops snippets on payload lines (tested with the binary),
		// so snippets are checked for the values that are not literals.
		sc, withSnippets := newScanner(), newScanner()
		for i, c := range fuzzCanaries {
			for _, v := range []string{c, strings.ToUpper(c), strings.ToLower(c)} {
				sc.add(canary{fmt.Sprintf("fz%d", i), []byte(v)})
				withSnippets.add(canary{fmt.Sprintf("fz%d", i), []byte(v)})
			}
		}
		for i, c := range fuzzLiterals {
			for _, v := range []string{c, strings.ToUpper(c), strings.ToLower(c)} {
				sc.add(canary{fmt.Sprintf("literal%d", i), []byte(v)})
			}
		}
		var out bytes.Buffer
		d := evaluateInto(t, dir, lookup, &out, withSnippets)
		if d != nil {
			o, err := provision.Observe(ctx, s, d)
			if err != nil {
				out.WriteString(err.Error())
			} else if p, err := provision.Diff(d, o, provision.DiffOptions{}); err != nil {
				out.WriteString(err.Error())
			} else {
				for _, r := range []func() error{
					func() error { return views.Text(&out, p, views.Colors{}) },
					func() error { return views.Text(&out, p, views.Colors{On: true}) },
					func() error { return views.JSON(&out, p) },
					func() error { return views.Markdown(&out, p) },
					func() error { return provision.WritePlanFile(filepath.Join(dir, "plan.bin"), p) },
				} {
					if err := r(); err != nil {
						t.Fatal(err)
					}
				}
				saved, err := os.ReadFile(filepath.Join(dir, "plan.bin"))
				if err != nil {
					t.Fatal(err)
				}
				out.Write(saved)
			}
		}
		sc.scan("validate+plan", "output", out.Bytes())
		for _, h := range append(sc.hits, withSnippets.hits...) {
			t.Errorf("LEAK: %s (%s) in %s:\n%s\nspec:\n%s", h.source, h.encoding, h.channel, h.context, src)
		}
	})
}

// evaluate loads and evaluates the spec in dir for stage dev.
func evaluate(tb testing.TB, dir string, lookup func(string) (string, bool)) *spec.Desired {
	tb.Helper()
	cfg, diags := spec.Load(dir)
	if diags.HasErrors() {
		return nil
	}
	d, diags := cfg.Evaluate("dev", spec.EvalOptions{LookupEnv: lookup})
	if diags.HasErrors() {
		return nil
	}
	return d
}

// evaluateInto is evaluate that renders every diagnostic: summary and
// detail into out, and HCL's text rendering with snippets into the
// snippets scanner.
func evaluateInto(t *testing.T, dir string, lookup func(string) (string, bool), out *bytes.Buffer, snippets *scanner) *spec.Desired {
	t.Helper()
	var diags hcl.Diagnostics
	cfg, ds := spec.Load(dir)
	diags = append(diags, ds...)
	var d *spec.Desired
	if !ds.HasErrors() {
		d, ds = cfg.Evaluate("dev", spec.EvalOptions{LookupEnv: lookup})
		diags = append(diags, ds...)
	}
	for _, diag := range diags {
		fmt.Fprintf(out, "%s: %s\n", diag.Summary, diag.Detail)
	}
	var text bytes.Buffer
	files := map[string]*hcl.File{}
	if cfg != nil {
		files = cfg.Files()
	}
	if err := hcl.NewDiagnosticTextWriter(&text, files, 0, false).WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
	snippets.scan("validate", "diagnostics", text.Bytes())
	if diags.HasErrors() {
		return nil
	}
	return d
}
