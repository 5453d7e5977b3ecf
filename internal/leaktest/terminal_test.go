package leaktest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestNoLeakTerminal runs the CLI on a terminal, which no run through pipes
// reaches: colour, apply's and destroy's confirmation prompt (answered
// "yes"), apply's live progress line, and the masked streams flushed
// before the prompt reads. util-linux's script(1) gives the CLI a
// pseudo-terminal on its standard streams; what it prints there is scanned
// as one stream.
func TestNoLeakTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give the CLI a terminal")
	}
	if out, err := exec.Command(script, "--version").Output(); err != nil || !bytes.Contains(out, []byte("util-linux")) {
		t.Skipf("script(1) is not util-linux's (%v): %s", err, out)
	}
	w, s := mainWorkspace(t)
	w.unsetenv("NO_COLOR")
	sb := []string{"--spec", "spec", "--sandbox"}
	cmd := func(args ...string) []string { return append(append([]string(nil), args...), sb...) }

	// A missing variable beside present payloads, in colour.
	field := w.unsetenv("LEAK_FIELD")
	r := w.runTerminal(script, "", 1, "validate", "--spec", "spec")
	if !bytes.Contains(r.stdout, []byte("\x1b[")) {
		t.Errorf("`%s` on a terminal printed no colour:\n%q", r.label, r.stdout)
	}
	w.setenv(field)

	w.runTerminal(script, "", 0, cmd("plan")...)
	r = w.runTerminal(script, "yes\n", 0, cmd("apply")...)
	if !bytes.Contains(r.stdout, []byte("Enter a value:")) {
		t.Errorf("`%s` on a terminal did not ask for confirmation:\n%s", r.label, r.stdout)
	}
	withStateSandbox(t, w.stateDir(), func(sm *secretsmanager.Client) { readGenerated(t, s, sm, "") })

	env2 := newCanary("env")
	s.add(env2)
	w.setenv("LEAK_ENV=" + string(env2.value))
	w.runTerminal(script, "yes\n", 0, cmd("apply", "--regenerate", "app/db.password")...)
	withStateSandbox(t, w.stateDir(), func(sm *secretsmanager.Client) { readGenerated(t, s, sm, "-regenerated") })
	w.runTerminal(script, "", 0, cmd("--no-color", "plan")...)
	w.runTerminal(script, "", 0, cmd("audit")...)
	w.runTerminal(script, "", 0, cmd("verify")...)
	// Anything but "yes" cancels.
	w.runTerminal(script, "no\n", 1, cmd("destroy")...)
	w.runTerminal(script, "yes\n", 0, cmd("destroy")...)

	checkPayloadsReachedSandbox(t, s, filepath.Join(w.stateDir(), "state.json"),
		"env", "env-field", "file", "filebase64", "literal", "generated", "generated-field-regenerated", "stage-key")
	checkFilesAtRest(t, w)
	s.report(t)
}

// unsetenv removes a variable from the CLI's environment and returns its
// NAME=VALUE, for setenv to put back.
func (w *workspace) unsetenv(name string) string {
	old := ""
	kept := w.env[:0]
	for _, e := range w.env {
		if strings.HasPrefix(e, name+"=") {
			old = e
			continue
		}
		kept = append(kept, e)
	}
	w.env = kept
	return old
}

// runTerminal runs the CLI on a pseudo-terminal made by script(1), with
// input typed at it, requires exit code want and scans what it printed.
func (w *workspace) runTerminal(script, input string, want int, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	recordRun(w.t, args)
	line := shellQuote(secretboot(w.t))
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	// -e: script exits with the CLI's code; the typescript goes nowhere,
	// what the terminal shows comes on script's stdout.
	cmd := exec.CommandContext(ctx, script, "-q", "-e", "-c", line, "/dev/null")
	cmd.Dir = w.root
	cmd.Env = w.env
	cmd.Stdin = strings.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The terminal turns each newline into CRLF; undone, a payload that
	// holds a newline (the binary canary) is found raw too.
	r := w.finish(strings.Join(args, " ")+" (terminal)", cmd.Run(), bytes.ReplaceAll(out.Bytes(), []byte("\r\n"), []byte("\n")), nil)
	if r.code != want {
		w.t.Fatalf("`secretboot %s` exited %d, want %d\n%s", r.label, r.code, want, r.stdout)
	}
	return r
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
