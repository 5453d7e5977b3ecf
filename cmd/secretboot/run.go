package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
)

// IOStreams are the streams a command reads and writes. Commands never touch
// os.Stdin/os.Stdout directly, so tests pass buffers.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// IsTTY reports an interactive session: a person can answer a prompt.
	IsTTY bool
	// ColorEnabled turns on ANSI colour in human-readable output.
	ColorEnabled bool
}

// Colors is the colour scheme for the streams: on or off.
func (s IOStreams) Colors() views.Colors { return views.Colors{On: s.ColorEnabled} }

// Exit codes, documented in docs/cli.md.
const (
	exitOK         = 0
	exitError      = 1
	exitChanges    = 2 // plan -detailed-exitcode found changes
	exitBroadening = 3 // plan -fail-on-broadening found grants that widen access
)

// exitStatus ends a command with a specific exit code after the command has
// already told the user everything (rendered diagnostics, a plan), so run
// prints nothing more.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

var (
	// errReported: the failure is already on screen (diagnostics, a list of
	// unformatted files).
	errReported = exitStatus{exitError}
	// errChangesPresent: plan -detailed-exitcode saw changes.
	errChangesPresent = exitStatus{exitChanges}
	// errBroadeningBlocked: plan -fail-on-broadening saw a widening grant;
	// the plan itself lists the grants.
	errBroadeningBlocked = exitStatus{exitBroadening}
)

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, streams IOStreams) int {
	return runWithEnv(ctx, args, streams, os.LookupEnv)
}

// runWithEnv is run with the environment injected, for tests.
func runWithEnv(ctx context.Context, args []string, streams IOStreams, lookupEnv func(string) (string, bool)) (code int) {
	a := newApp(streams, lookupEnv)
	defer a.finish(&code)
	root := newRootCmd(a)
	root.SetArgs(normalizeArgs(root, args))
	return exitCode(a.streams.Err, root.ExecuteContext(ctx))
}

// reportPanic tells of a recovered panic. The panic value may hold
// anything, a payload included (promise 1), so it is never printed: only
// its type and where it happened. Call it while the panic is recovered, in
// the deferred function.
func reportPanic(stderr io.Writer, r any) {
	fmt.Fprintf(stderr, "secretboot: internal error (%T at %s); this is a bug, please report it\n", r, panicSite())
}

// exitCode maps a command's error to an exit code, printing the message of
// errors that were not already reported.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var st exitStatus
	if errors.As(err, &st) {
		return st.code
	}
	fmt.Fprintf(stderr, "Error: %s\n", err)
	return exitError
}

// panicSite names the function and line that panicked, skipping the runtime
// frames, so a bug report is useful without a stack dump of values.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	afterPanic := false
	for {
		f, more := frames.Next()
		if afterPanic && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s:%d", f.Function, f.Line)
		}
		if f.Function == "runtime.gopanic" {
			afterPanic = true
		}
		if !more {
			return "unknown location"
		}
	}
}
