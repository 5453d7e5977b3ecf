package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/secretboot/secretboot/internal/golden"
)

// TestMain registers the program so that the transcripts' "exec secretboot"
// runs mainExit in a child process of the test binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"secretboot": func() { os.Exit(mainExit()) },
	})
}

// TestScripts runs the CLI transcripts in testdata/script. Each script
// checks exit codes and output; the canary scripts assert that a payload
// never shows up in stdout, stderr or written files.
//
// Run with -update to rewrite the golden files that scripts compare with
// cmp (the want-* sections of the txtar files).
func TestScripts(t *testing.T) {
	// Beside TestInstallAndDeployOnSandbox, whose Terraform provider keeps
	// a core busy while the scripts mostly wait on their sandboxes.
	t.Parallel()
	// testscript starts every script with a minimal environment, so the
	// developer's SECRETBOOT_STAGE or AWS_* variables do not leak in.
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Update(),
		Cmds:          map[string]func(*testscript.TestScript, bool, []string){"exitcode": cmdExitCode},
	})
}

// cmdExitCode is "exitcode N PROG ARGS...": run PROG like exec and require
// exit code N, since exec only tells zero from non-zero and the CLI's codes
// 2 and 3 carry meaning.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}
