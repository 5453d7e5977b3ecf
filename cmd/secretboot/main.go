package main

import (
	"context"
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
