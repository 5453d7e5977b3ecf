package leaktest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// An adversarial case is one txtar file of testdata/adversarial: a spec
// that makes an expression fail, or be printed, while it touches a payload.
// Its comment says what it attacks in free text, and holds directives:
//
//	expect: ok | fail           validate, plan and apply exit 0, or all exit 1
//	fmt: formatted | unformatted | unparsable
//	                            what fmt -check finds (default formatted)
//	env: NAME=VALUE             an environment variable of every command
//	arg: ARG                    one argument added to validate, plan and apply
//	stored: A B …               canaries that must reach the sandbox (expect: ok)
//
// Each file section is written below the spec directory, except env/NAME,
// which sets the variable NAME to the section without its final newline.
// {{A}} in a section or directive is canary A (any word names one): {{A|hcl}}
// is it as an HCL string literal, {{A|json}} as a JSON string, {{A|b64}} in
// standard base64. A name that starts with "num" is a 24-digit number. A
// name that starts with "id" is a canary made of identifier characters only, and
// {{idA|typo}} is that identifier with its last character changed, so that
// HCL suggests the canary ("Did you mean …?").
type adversarialCase struct {
	name     string
	attacks  string
	expectOK bool
	fmtMode  string
	env      []string
	args     []string
	stored   []string
	files    []txtar.File
}

// adversarialDir holds the corpus.
const adversarialDir = "testdata/adversarial"

func loadAdversarial(t *testing.T) []adversarialCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(adversarialDir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []adversarialCase
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := adversarialCase{name: strings.TrimSuffix(filepath.Base(p), ".txtar"), fmtMode: "formatted", files: a.Files}
		expect := ""
		for _, line := range strings.Split(string(a.Comment), "\n") {
			key, val, ok := strings.Cut(line, ": ")
			if !ok {
				continue
			}
			switch key {
			case "Attacks":
				c.attacks = val
			case "expect":
				expect = val
			case "fmt":
				c.fmtMode = val
			case "env":
				c.env = append(c.env, val)
			case "arg":
				c.args = append(c.args, val)
			case "stored":
				c.stored = strings.Fields(val)
			}
		}
		switch {
		case c.attacks == "":
			t.Errorf("%s: no \"Attacks: …\" line says what it attacks", p)
		case expect != "ok" && expect != "fail":
			t.Errorf("%s: expect: %q, want ok or fail", p, expect)
		case !slices.Contains([]string{"formatted", "unformatted", "unparsable"}, c.fmtMode):
			t.Errorf("%s: fmt: %q, want formatted, unformatted or unparsable", p, c.fmtMode)
		case len(c.stored) > 0 && expect != "ok":
			t.Errorf("%s: stored: needs expect: ok", p)
		case !slices.ContainsFunc(a.Files, func(f txtar.File) bool { return strings.HasSuffix(f.Name, ".hcl") }):
			t.Errorf("%s: no .hcl file", p)
		}
		c.expectOK = expect == "ok"
		cases = append(cases, c)
	}
	return cases
}

// canarySet makes the canaries of one run of a case on first use.
type canarySet struct {
	s      *scanner
	prefix string
	values map[string]canary
}

func (cs *canarySet) get(name string) canary {
	if c, ok := cs.values[name]; ok {
		return c
	}
	// The value leaves out the case's name, which could hold a word of the
	// literal-credential check (key, token, …) and change what a case tests.
	c := newCanary(name)
	switch {
	case strings.HasPrefix(name, "id"):
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.value = []byte(fmt.Sprintf("cnry_%s_%x", name, b))
	case strings.HasPrefix(name, "num"):
		digits := make([]byte, 24)
		_, _ = rand.Read(digits)
		for i := range digits {
			digits[i] = '0' + digits[i]%10
		}
		digits[0] = '1' + digits[0]%9 // no leading zero: JSON keeps every digit
		c.value = digits
	}
	c.source = cs.prefix + "." + name
	cs.values[name] = c
	// Functions change case or order before a diagnostic can quote them.
	reversed := []rune(string(c.value))
	slices.Reverse(reversed)
	cs.s.add(c, canary{c.source + "(upper)", bytes.ToUpper(c.value)}, canary{c.source + "(lower)", bytes.ToLower(c.value)},
		canary{c.source + "(reversed)", []byte(string(reversed))})
	return c
}

var placeholderRe = regexp.MustCompile(`\{\{(\w+)(?:\|(\w+))?\}\}`)

// expand replaces the placeholders of text by canaries.
func (cs *canarySet) expand(t *testing.T, text string) string {
	t.Helper()
	return placeholderRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholderRe.FindStringSubmatch(m)
		v := string(cs.get(sub[1]).value)
		switch sub[2] {
		case "":
			return v
		case "hcl":
			return hclString(v)
		case "json":
			j, _ := json.Marshal(v)
			return string(j)
		case "b64":
			return base64.StdEncoding.EncodeToString([]byte(v))
		case "typo":
			if !strings.HasPrefix(sub[1], "id") {
				t.Fatalf("%s: typo needs an identifier canary (id…)", m)
			}
			last := v[len(v)-1]
			return v[:len(v)-1] + map[bool]string{true: "x", false: "y"}[last != 'x']
		default:
			t.Fatalf("%s: unknown filter %q", m, sub[2])
			return ""
		}
	})
}

// adversarialRuns, adversarialCommands and adversarialChecked count what
// TestNoLeakAdversarial ran and checked, for its one proof line: a line per
// case would bury the other tests' lines in .ci/run's report.
var adversarialRuns, adversarialCommands, adversarialChecked atomic.Int64

// TestNoLeakAdversarial runs every case of the adversarial corpus through
// validate (text, -json), plan (text, -json, -markdown, -out), apply and
// fmt (-check, -diff, and writing), twice: with the output masker disabled
// (the binary built with the leaktest tag, SECRETBOOT_LEAKTEST_UNMASKED=1),
// which proves that no sensitive text is produced at all, and as shipped.
// Neither run may print a canary, nor the masker's report line.
func TestNoLeakAdversarial(t *testing.T) {
	cases := loadAdversarial(t)
	if len(cases) < 40 {
		t.Errorf("the adversarial corpus has %d cases, want at least 40", len(cases))
	}
	// Build both binaries before the parallel subtests start.
	secretboot(t)
	secretbootWithFaults(t)
	// Short unless SECRETBOOT_LONG_TESTS=1 (.ci/run sets it): every case
	// unmasked, the stronger proof, and every fourth as shipped too.
	long := os.Getenv("SECRETBOOT_LONG_TESTS") == "1"
	for i, c := range cases {
		for _, unmasked := range []bool{true, false} {
			if !unmasked && !long && i%4 != 0 {
				continue
			}
			mode := "masked"
			if unmasked {
				mode = "unmasked"
			}
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				checked, _ := runAdversarial(t, c, unmasked).settle(t)
				adversarialChecked.Add(int64(checked))
				adversarialRuns.Add(1)
			})
		}
	}
	t.Cleanup(func() {
		if !t.Failed() {
			t.Logf("leaktest: %d combinations checked by the adversarial corpus (%d runs of its %d specs, %d commands), 0 hits",
				adversarialChecked.Load(), adversarialRuns.Load(), len(cases), adversarialCommands.Load())
		}
	})
}

// runAdversarial runs the commands of one case and returns the scanner
// that searched their output, for the caller to settle.
func runAdversarial(t *testing.T, c adversarialCase, unmasked bool) *scanner {
	s := newScanner()
	w := newWorkspace(t, s)
	cs := &canarySet{s: s, prefix: c.name, values: map[string]canary{}}
	if unmasked {
		w.bin = secretbootWithFaults(t)
		w.setenv("SECRETBOOT_LEAKTEST_UNMASKED=1")
	}
	var sources []txtar.File
	for _, f := range c.files {
		data := cs.expand(t, string(f.Data))
		switch {
		case strings.HasPrefix(f.Name, "env/"):
			w.setenv(strings.TrimPrefix(f.Name, "env/") + "=" + strings.TrimSuffix(data, "\n"))
		case strings.HasSuffix(f.Name, ".hcl"):
			w.source(f.Name, []byte(data))
			sources = append(sources, txtar.File{Name: f.Name, Data: []byte(data)})
		default:
			w.write(f.Name, []byte(data))
		}
	}
	for _, e := range c.env {
		w.setenv(cs.expand(t, e))
	}
	var extra []string
	for _, a := range c.args {
		extra = append(extra, cs.expand(t, a))
	}

	want := 1
	if c.expectOK {
		want = 0
	}
	check := func(code int, args ...string) {
		t.Helper()
		r := w.run(-1, args...)
		adversarialCommands.Add(1)
		if r.code != code {
			t.Errorf("`secretboot %s` exited %d, want %d\nstdout:\n%s\nstderr:\n%s", r.label, r.code, code, r.stdout, r.stderr)
		}
		if r.code != 0 && len(r.stdout)+len(r.stderr) == 0 {
			t.Errorf("`secretboot %s` failed silently", r.label)
		}
	}
	eval := func(args ...string) []string { return append(append(args, "--spec", "spec"), extra...) }
	check(want, eval("validate")...)
	check(want, eval("validate", "-json")...)
	check(want, eval("plan", "--sandbox")...)
	check(want, eval("plan", "-json", "--sandbox")...)
	check(want, eval("--debug", "plan", "-markdown", "--sandbox")...)
	check(want, eval("plan", "-out", "out/plan.bin", "--sandbox")...)
	// apply runs against `sandbox serve`, whose request log is scanned too.
	srv := w.serve("--debug", "--state", "serve-state")
	w.setenv(srv.env()...)
	check(want, eval("--debug", "apply", "-auto-approve")...)
	if c.expectOK {
		// What apply wrote, plan now reads back and compares.
		check(0, eval("--debug", "plan")...)
	}
	srv.stop()
	if len(c.stored) > 0 {
		var stored []string
		for _, name := range c.stored {
			stored = append(stored, cs.get(name).source)
		}
		checkPayloadsReachedSandbox(t, s, filepath.Join(w.root, "serve-state", "state.json"), stored...)
	}

	fmtCheck := map[string]int{"formatted": 0, "unformatted": 1, "unparsable": 1}[c.fmtMode]
	written := 0
	if c.fmtMode == "unparsable" {
		written = 1
	}
	checkFmt := func(code int, args ...string) { check(code, append(args, "--spec", "spec")...) }
	checkFmt(fmtCheck, "fmt", "-check")
	checkFmt(fmtCheck, "fmt", "-check", "-diff")
	checkFmt(written, "fmt", "-diff")
	// Back to the unformatted sources, for fmt without -diff.
	for _, f := range sources {
		w.source(f.Name, f.Data)
	}
	checkFmt(written, "fmt")
	checkFmt(written, "fmt", "-check")

	checkFilesAtRest(t, w)
	return s
}

// TestAdversarialRunnerSeesPrintedText runs the corpus runner on a spec
// whose description, which is not a payload, holds a canary: plan shows a
// description by design, so the runner must find it in every plan
// rendering and the saved plan, and in fmt's diff of the unformatted line.
// A runner that cannot see printed text would pass the corpus for the
// wrong reason.
func TestAdversarialRunnerSeesPrintedText(t *testing.T) {
	c := adversarialCase{name: "printed", expectOK: true, fmtMode: "unformatted", files: []txtar.File{{Name: "main.hcl", Data: []byte(specHeader + `
secret "app/a" {
  readers = [role.web]
  value   = env("LEAK_B")
    description = {{A|hcl}}
}
`)}}, env: []string{"LEAK_B={{B}}"}, stored: []string{"B"}}
	s := runAdversarial(t, c, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, h := range s.hits {
		if h.source != "printed.A" {
			t.Errorf("unexpected hit of %s in %s of `%s`", h.source, h.channel, h.command)
		}
		seen[h.command+" | "+h.channel] = true
	}
	for _, want := range []string{
		"plan --sandbox --spec spec | stdout",
		"plan -json --sandbox --spec spec | stdout",
		"--debug plan -markdown --sandbox --spec spec | stdout",
		"plan -out out/plan.bin --sandbox --spec spec | file out/plan.bin",
		"--debug apply -auto-approve --spec spec | stdout",
		"fmt -check -diff --spec spec | stdout",
	} {
		if !seen[want] {
			t.Errorf("the runner did not see the description in %s; it saw %v", want, seen)
		}
	}
}
