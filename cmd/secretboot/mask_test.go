package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/internal/redact"
	"github.com/secretboot/secretboot/provision"
)

// runLeaky runs a command that registers canary as a payload and then leaks
// it, as a bug would, to stdout (with a partial last line), to stderr, to a
// --debug style log and to a plan file.
func runLeaky(t *testing.T, env func(string) (string, bool), canary string) (code int, stdout, stderr string, file []byte) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(IOStreams{Out: &out, Err: &errOut}, env)
	path := filepath.Join(t.TempDir(), "plan.bin")
	code = func() (code int) {
		defer a.finish(&code)
		root := newRootCmd(a)
		root.AddCommand(&cobra.Command{Use: "leak", RunE: func(*cobra.Command, []string) error {
			if add := a.secretSink(); add != nil {
				add([]byte(canary))
			}
			fmt.Fprintf(a.streams.Out, "raw %s\nbase64 %s", canary, base64.StdEncoding.EncodeToString([]byte("x"+canary)))
			fmt.Fprintf(a.streams.Err, "error: %q\n", canary)
			slog.New(slog.NewTextHandler(a.streams.Err, nil)).Info("request", "body", canary+" and more")
			p := &provision.Plan{FormatVersion: provision.FormatVersion, Header: provision.Header{Project: canary}}
			return provision.WritePlanFile(path, p, a.maskFile)
		}})
		root.SetArgs([]string{"leak"})
		return exitCode(a.streams.Err, root.Execute())
	}()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String(), file
}

// TestOutputIsMasked checks the backstop end to end: a payload registered
// with the run's masker is replaced on stdout, stderr, the log and in
// files, and the run ends with the notice that this was a bug.
func TestOutputIsMasked(t *testing.T) {
	const canary = "canary-masked-91d3"
	code, stdout, stderr, file := runLeaky(t, noEnv, canary)
	if code != exitOK {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	all := stdout + stderr + string(file)
	for _, f := range redact.Forms([]byte(canary)) {
		if strings.Contains(all, f) {
			t.Errorf("form %q of the payload in the output:\n%s", f, all)
		}
	}
	if !strings.HasPrefix(stdout, "raw (masked)\nbase64 ") || !strings.Contains(string(file), `"project": "(masked)"`) {
		t.Errorf("stdout %q / file %s: want the payload replaced, the partial line flushed", stdout, file)
	}
	// raw, base64, %q, the log line, the file
	if want := "secretboot: masked 5 occurrence(s) of a secret in output; this is a bug, please report it\n"; !strings.HasSuffix(stderr, want) {
		t.Errorf("stderr = %q, want it to end with %q", stderr, want)
	}
}

func TestNoNoticeWithoutMasking(t *testing.T) {
	code, stdout, stderr := cliRun(t, IOStreams{}, "version")
	if code != exitOK || strings.Contains(stdout+stderr, "masked") {
		t.Errorf("version: code %d, output %q %q; want no masking notice", code, stdout, stderr)
	}
}

// promptReader answers a prompt, recording what stdout held when it was
// asked.
type promptReader struct {
	out    *bytes.Buffer
	sawOut string
}

func (r *promptReader) Read(p []byte) (int, error) {
	if r.sawOut != "" {
		return 0, io.EOF
	}
	r.sawOut = r.out.String()
	return copy(p, "yes\n"), nil
}

// TestPromptIsFlushedBeforeReading: the masked stdout holds a partial line
// until the end of a line, but a prompt must be on screen before the
// program waits for its answer.
func TestPromptIsFlushedBeforeReading(t *testing.T) {
	var out bytes.Buffer
	in := &promptReader{out: &out}
	a := newApp(IOStreams{In: in, Out: &out, Err: io.Discard}, noEnv)
	fmt.Fprint(a.streams.Out, "  Enter a value: ")
	line, err := io.ReadAll(a.streams.In)
	if err != nil || string(line) != "yes\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	if in.sawOut != "  Enter a value: " {
		t.Errorf("stdout when stdin was read = %q, want the prompt", in.sawOut)
	}
}

// TestVarErrorsNeverEcho: a malformed --var is named by its position, never
// by its text, which may be a payload passed by mistake.
func TestVarErrorsNeverEcho(t *testing.T) {
	dir := writeSpec(t, applySpec)
	tests := []struct {
		name string
		vars []string
		want string
	}{
		{"no equals sign", []string{"canaryvar-7e21aa"}, "--var #1 of 1 is not NAME=VALUE"},
		{"empty name", []string{"ok=1", "=canaryvar-7e21aa"}, "--var #2 of 2 is not NAME=VALUE"},
		{"name not an identifier", []string{"canaryvar/7e21aa=x"}, "--var #1 of 1 is not NAME=VALUE"},
		{"name starting with a digit", []string{"9canaryvar=x"}, "--var #1 of 1 is not NAME=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range []string{"validate", "plan"} {
				args := []string{cmd, "--spec", dir, "--sandbox"}
				for _, v := range tt.vars {
					args = append(args, "--var", v)
				}
				code, stdout, stderr := cliRun(t, IOStreams{}, args...)
				if code != exitError || !strings.Contains(stderr, tt.want) {
					t.Errorf("%s: code %d, stderr %q; want %d and %q", cmd, code, stderr, exitError, tt.want)
				}
				if strings.Contains(stdout+stderr, "canaryvar") {
					t.Errorf("%s: the argument is echoed: %q", cmd, stderr)
				}
			}
		})
	}
}

func TestVarFlags(t *testing.T) {
	a := &app{common: commonOptions{vars: []string{"a=1", "b=x=y", "a=2", "c="}}}
	got, err := a.varFlags()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "2", "b": "x=y", "c": ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("varFlags = %v, want %v", got, want)
	}
}

// TestSecretSink: every payload source reports to the run's masker.
func TestSecretSink(t *testing.T) {
	a := newApp(IOStreams{Out: io.Discard, Err: io.Discard}, noEnv)
	add := a.secretSink()
	if add == nil {
		t.Fatal("secretSink is nil in a normal build")
	}
	add([]byte("canary-sink-0b7d"))
	if got := string(a.maskFile([]byte("x canary-sink-0b7d y"))); got != "x (masked) y" {
		t.Errorf("maskFile = %q", got)
	}
}
