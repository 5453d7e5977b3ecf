package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	os.Exit(mainExit())
}

// mainExit is main without os.Exit, so the testscript transcripts can run
// the program in-process.
func mainExit() int {
	// The context ends on SIGINT/SIGTERM so long-running commands (sandbox
	// serve, apply) stop cleanly and flush their state.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer quitWithoutDump(os.LookupEnv, os.Stderr)()
	return run(ctx, os.Args[1:], systemStreams())
}

// systemStreams wires the process's standard streams. IsTTY means a person
// can answer a prompt (stdin and stdout are terminals); colour is on when
// stdout is a terminal unless NO_COLOR is set (https://no-color.org), and
// --no-color can still turn it off later.
func systemStreams() IOStreams {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	_, noColor := os.LookupEnv("NO_COLOR")
	return IOStreams{
		In:           os.Stdin,
		Out:          os.Stdout,
		Err:          os.Stderr,
		IsTTY:        tty && term.IsTerminal(int(os.Stdin.Fd())),
		ColorEnabled: tty && !noColor,
	}
}

// quitSignals make the Go runtime print every goroutine's stack, function
// arguments as raw words included: those words can be a payload's bytes
// (promise 1). GOTRACEBACK=none does not stop it for signals, so the
// program takes them itself.
var quitSignals = []os.Signal{syscall.SIGQUIT, syscall.SIGABRT}

// quitWithoutDump makes SIGQUIT and SIGABRT end the process at once, as
// they would, but with a one-line notice instead of the runtime's dump,
// unless the user set GOTRACEBACK and so asked for the runtime's
// behaviour. The exit code is 128 + the signal's number, as a shell
// reports a death by signal; it is not one of the CLI's own codes. It
// returns the function that stops listening.
func quitWithoutDump(lookupEnv func(string) (string, bool), stderr io.Writer) (stop func()) {
	if _, set := lookupEnv("GOTRACEBACK"); set {
		return func() {}
	}
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, quitSignals...)
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "secretboot: %s: quitting without a goroutine dump, which could show payload bytes (set GOTRACEBACK to get one)\n", sig)
			code := exitError // every quit signal is a syscall.Signal; this is not reached
			if n, ok := sig.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
