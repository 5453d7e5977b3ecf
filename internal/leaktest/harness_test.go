package leaktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// binDir holds the secretboot binaries, each built on first use (the fuzz
// workers never need them): the program as shipped, and the one with the
// leaktest build tag's fault hooks (provision/faults_leaktest.go).
var (
	binDir string
	builds = map[string]*binary{"": {}, "leaktest": {}} // by build tags
)

type binary struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "leaktest-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if n := totalChecked.get(); n > 0 && code == 0 {
		fmt.Printf("leaktest: %d combinations checked in total, 0 hits\n", n)
	}
	_ = os.RemoveAll(binDir)
	os.Exit(code)
}

// secretboot returns the path of the CLI binary as shipped. It is built
// without -race whatever the test binary uses: the harness tests the
// program's output, and an instrumented binary would only be slower.
func secretboot(t testing.TB) string { return build(t, "") }

// secretbootWithFaults returns the path of the CLI binary built with the
// leaktest tag, whose environment-triggered faults no endpoint can cause.
func secretbootWithFaults(t testing.TB) string { return build(t, "leaktest") }

func build(t testing.TB, tags string) string {
	t.Helper()
	b := builds[tags]
	b.once.Do(func() {
		name, args := "secretboot", []string{"build"}
		if tags != "" {
			name, args = name+"-"+tags, append(args, "-tags", tags)
		}
		b.path = filepath.Join(binDir, name)
		args = append(args, "-o", b.path)
		cmd := exec.Command("go", append(args, "github.com/secretboot/secretboot/cmd/secretboot")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		b.err = statSources(tags)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// statSources stats every source file of the module that the binary is
// built from. go test caches a passing result keyed by the files the test
// opened or stat'ed; without this, a change in cmd/ or provision/ would not
// rerun the harness, since the build happens in a child process.
func statSources(tags string) error {
	out, err := exec.Command("go", "list", "-tags", tags, "-deps", "-f",
		`{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"github.com/secretboot/secretboot/cmd/secretboot").Output()
	if err != nil {
		return fmt.Errorf("go list: %w", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if _, err := os.Stat(p); err != nil {
			return err
		}
	}
	return nil
}

// workspace is one isolated directory tree: the spec, the CLI's HOME and
// TMPDIR, and every file the CLI writes. Every file in it is an output to
// scan, except the inputs the harness wrote and the sandbox's state file.
type workspace struct {
	t       *testing.T
	root    string
	spec    string // root/spec, the --spec directory
	env     []string
	inputs  map[string]bool     // relative paths of files the harness wrote
	sources map[string][]byte   // spec files fmt may rewrite, by relative path: their original text
	hashes  map[string][32]byte // every file's hash after the last command
	scanner *scanner
	runs    []result
	bin     string // the binary run; "" is secretboot as shipped
}

// result is one finished command.
type result struct {
	label          string
	code           int
	stdout, stderr []byte
}

func newWorkspace(t *testing.T, s *scanner) *workspace {
	t.Helper()
	root := t.TempDir()
	w := &workspace{t: t, root: root, spec: filepath.Join(root, "spec"), inputs: map[string]bool{}, sources: map[string][]byte{},
		hashes: map[string][32]byte{}, scanner: s}
	for _, d := range []string{"spec", "home", "tmp", "out"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A minimal environment: no developer credentials, profiles or
	// endpoints leak in, and nothing reaches IMDS.
	w.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(root, "home"),
		"TMPDIR=" + filepath.Join(root, "tmp"),
		"AWS_CONFIG_FILE=" + filepath.Join(root, "home", "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(root, "home", "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_COLOR=1",
	}
	return w
}

// setenv adds or replaces a variable of the CLI's environment.
func (w *workspace) setenv(kv ...string) {
	for _, e := range kv {
		name, _, _ := strings.Cut(e, "=")
		kept := w.env[:0]
		for _, old := range w.env {
			if !strings.HasPrefix(old, name+"=") {
				kept = append(kept, old)
			}
		}
		w.env = append(kept, e)
	}
}

// write creates an input file below the spec directory.
func (w *workspace) write(name string, data []byte) {
	w.t.Helper()
	w.writeInput(filepath.Join("spec", filepath.FromSlash(name)), data)
}

// writeInput creates an input file at a path relative to the root.
func (w *workspace) writeInput(rel string, data []byte) {
	w.t.Helper()
	p := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.inputs[filepath.ToSlash(rel)] = true
	w.hashes[filepath.ToSlash(rel)] = sha256.Sum256(data)
}

// draft creates a spec file that a command (fmt) may rewrite: it is
// scanned like an output when it changes.
func (w *workspace) draft(name string, data []byte) {
	w.t.Helper()
	w.write(name, data)
	delete(w.inputs, filepath.ToSlash(filepath.Join("spec", name)))
}

// source creates a spec file that fmt may rewrite and that may hold
// literal payloads (allow_literal): when it changes, it is scanned for
// every canary except those its original text already holds, which a
// rewritten spec keeps by design.
func (w *workspace) source(name string, data []byte) {
	w.t.Helper()
	w.draft(name, data)
	w.sources[filepath.ToSlash(filepath.Join("spec", name))] = data
}

// stateDir is the default --sandbox state file of the workspace's spec.
func (w *workspace) stateDir() string { return filepath.Join(w.spec, ".secretboot", "sandbox") }

// cmdTimeout bounds one CLI run; the slowest (apply under injected faults)
// takes a few seconds.
const cmdTimeout = 90 * time.Second

// run executes the CLI in the workspace root with args, requires exit code
// want (-1 = any), and scans what it wrote.
func (w *workspace) run(want int, args ...string) result {
	w.t.Helper()
	return w.runEnv(nil, want, args...)
}

// runEnv is run with extra environment variables.
func (w *workspace) runEnv(extraEnv []string, want int, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	bin := w.bin
	if bin == "" {
		bin = secretboot(w.t)
	}
	recordRun(w.t, args)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = w.root
	cmd.Env = append(append([]string(nil), w.env...), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := w.finish(strings.Join(args, " "), cmd.Run(), stdout.Bytes(), stderr.Bytes())
	if want >= 0 && r.code != want {
		w.t.Fatalf("`secretboot %s` exited %d, want %d\nstdout:\n%s\nstderr:\n%s", r.label, r.code, want, r.stdout, r.stderr)
	}
	return r
}

// finish records a finished process: its exit code, its streams and every
// file it created or changed, all scanned.
func (w *workspace) finish(label string, err error, stdout, stderr []byte) result {
	w.t.Helper()
	r := result{label: label, stdout: stdout, stderr: stderr}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		r.code = ee.ExitCode()
	default:
		w.t.Fatalf("`secretboot %s`: %v\nstderr:\n%s", label, err, stderr)
	}
	w.scanner.scan(label, "stdout", stdout)
	w.scanner.scan(label, "stderr", stderr)
	for _, out := range [][]byte{stdout, stderr} {
		if m := maskedLineRe.Find(out); m != nil {
			w.t.Errorf("`secretboot %s` masked a payload: the masker is the backstop, and a masked leak is a leak: %q", label, m)
		}
	}
	w.scanFiles(label)
	w.runs = append(w.runs, r)
	return r
}

// maskedLineRe matches the line the CLI prints when its output masker
// replaced a payload (issue 10): whatever the masker caught, the first
// layer let through.
var maskedLineRe = regexp.MustCompile(`secretboot: masked [0-9]+ occurrence`)

// scanFiles scans every file of the workspace that is new or changed since
// the last command, except inputs and the sandbox's state file, which must
// stay private (0600).
func (w *workspace) scanFiles(label string) {
	w.t.Helper()
	err := filepath.WalkDir(w.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a temporary file renamed away meanwhile
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(w.root, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if isStateFile(p) {
			w.checkStateMode(p)
			return nil
		}
		h := sha256.Sum256(data)
		if old, ok := w.hashes[rel]; ok && old == h {
			return nil
		}
		w.hashes[rel] = h
		if w.inputs[rel] {
			w.t.Errorf("`secretboot %s` changed input file %s", label, rel)
			return nil
		}
		if orig, ok := w.sources[rel]; ok {
			w.scanner.scanExcept(label, "file "+rel, data, orig)
			return nil
		}
		w.scanner.scan(label, "file "+rel, data)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// isStateFile reports whether p is a sandbox state file, or the temporary
// file a running sandbox writes before renaming it over the state file.
func isStateFile(p string) bool {
	base := filepath.Base(p)
	return base == "state.json" || strings.HasPrefix(base, "state.json.") && strings.HasSuffix(base, ".tmp")
}

// checkStateMode checks that a state file is 0600 in a 0700 directory; a
// temporary file may be renamed away meanwhile.
func (w *workspace) checkStateMode(p string) {
	w.t.Helper()
	w.checkMode(p, 0o600)
	w.checkMode(filepath.Dir(p), 0o700|fs.ModeDir)
}

func (w *workspace) checkMode(p string, want fs.FileMode) {
	w.t.Helper()
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return // a temporary file renamed away since it was listed
	}
	if err != nil {
		w.t.Fatal(err)
	}
	if got := fi.Mode() & (fs.ModePerm | fs.ModeDir); got != want {
		w.t.Errorf("%s has mode %v, want %v", p, got, want)
	}
}
