package main

import (
	"fmt"
	"io"

	"github.com/secretboot/secretboot/internal/redact"
)

// maskedNotice is printed once at exit when the masker replaced anything:
// a payload reached an output, which the first layer (no text is produced
// from a payload) should have made impossible.
const maskedNotice = "secretboot: masked %d occurrence(s) of a secret in output; this is a bug, please report it\n"

// newApp builds the app of one run: its standard streams go through one
// output masker, and reading standard input first flushes them, so that a
// prompt is on screen before the answer is awaited.
func newApp(streams IOStreams, lookupEnv func(string) (string, bool)) *app {
	m := redact.New()
	a := &app{lookupEnv: lookupEnv, masker: m, rawErr: streams.Err, unmasked: maskingDisabled(lookupEnv)}
	out, errw := m.Writer(streams.Out), m.Writer(streams.Err)
	a.masked = []*redact.Writer{out, errw}
	streams.Out, streams.Err = out, errw
	if streams.In != nil {
		streams.In = flushingReader{r: streams.In, flush: a.flush}
	}
	a.streams = streams
	return a
}

// secretSink registers a payload with the output masker. It is what the
// engine and the spec evaluator are given to report every payload they
// produce (spec.EvalOptions.Mask, provision.ConnectOptions.Mask); nil when
// a leaktest build turned masking off.
func (a *app) secretSink() func(secret []byte) {
	if a.unmasked {
		return nil
	}
	return a.masker.Add
}

// maskFile is the provision.Mask for every file secretboot writes.
func (a *app) maskFile(b []byte) []byte {
	out, _ := a.masker.Mask(b)
	return out
}

// flush writes the partial lines the masked streams hold.
func (a *app) flush() {
	for _, w := range a.masked {
		_ = w.Flush() // at exit or before a prompt there is nobody to tell
	}
}

// finish ends a run, deferred by runWithEnv: a panic becomes exit code 1
// with a message that shows no value, the masked streams are flushed, and
// any masked occurrence is reported.
func (a *app) finish(code *int) {
	if r := recover(); r != nil {
		reportPanic(a.streams.Err, r)
		*code = exitError
	}
	a.flush()
	if n := a.masker.Hits(); n > 0 {
		fmt.Fprintf(a.rawErr, maskedNotice, n)
	}
}

// flushingReader flushes the masked output before every read of standard
// input: a line-buffered prompt ("Enter a value: ") must show before the
// program waits for its answer.
type flushingReader struct {
	r     io.Reader
	flush func()
}

func (f flushingReader) Read(p []byte) (int, error) {
	f.flush()
	return f.r.Read(p)
}
