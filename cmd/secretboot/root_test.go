package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"single-dash bool flag", []string{"validate", "-json"}, []string{"validate", "--json"}},
		{"double dash untouched", []string{"validate", "--json"}, []string{"validate", "--json"}},
		{"persistent flag with value", []string{"validate", "-spec", "dir", "-stage=dev"}, []string{"validate", "--spec", "dir", "--stage=dev"}},
		{"flag before command", []string{"-no-color", "validate"}, []string{"--no-color", "validate"}},
		{"value that looks like a flag", []string{"validate", "--var", "-json", "-json"}, []string{"validate", "--var", "-json", "--json"}},
		{"unknown flag left for cobra", []string{"validate", "-bogus"}, []string{"validate", "-bogus"}},
		{"flag of another command", []string{"validate", "-check"}, []string{"validate", "-check"}},
		{"shorthand help", []string{"fmt", "-h"}, []string{"fmt", "-h"}},
		{"single-dash help", []string{"fmt", "-help"}, []string{"fmt", "--help"}},
		{"after double dash", []string{"init", "--", "-json"}, []string{"init", "--", "-json"}},
		{"optional value flag", []string{"validate", "-sandbox", "x"}, []string{"validate", "--sandbox", "x"}},
		{"stdin dash", []string{"init", "-"}, []string{"init", "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCmd(&app{lookupEnv: noEnv})
			if diff := cmp.Diff(tt.want, normalizeArgs(root, tt.args)); diff != "" {
				t.Errorf("normalizeArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func noEnv(string) (string, bool) { return "", false }

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"help", []string{"--help"}, exitOK, ""},
		{"unknown command", []string{"nope"}, exitError, `Error: unknown command "nope"`},
		{"unknown flag", []string{"version", "--nope"}, exitError, `Error: unknown flag --nope for "secretboot version" (secretboot version -help lists its flags)`},
		{"bad parallelism", []string{"version", "-parallelism", "0"}, exitError, "--parallelism must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			got := runWithEnv(context.Background(), tt.args, IOStreams{Out: &out, Err: &errOut}, noEnv)
			if got != tt.want {
				t.Errorf("exit code = %d, want %d (stderr %q)", got, tt.want, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.wantStderr)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		want       int
		wantStderr string
	}{
		{"nil", nil, exitOK, ""},
		{"reported", errReported, exitError, ""},
		{"changes", errChangesPresent, exitChanges, ""},
		{"broadening", errBroadeningBlocked, exitBroadening, ""},
		{"plain error", errorString("boom"), exitError, "Error: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			if got := exitCode(&errOut, tt.err); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantStderr, errOut.String()); diff != "" {
				t.Errorf("stderr mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestPanicIsNotDumped checks that a panic's value, which could hold a
// payload, never reaches the output, and that what the command wrote
// before it is still flushed.
func TestPanicIsNotDumped(t *testing.T) {
	const canary = "canary-panic-3e9a"
	var out, errOut bytes.Buffer
	a := newApp(IOStreams{Out: &out, Err: &errOut}, noEnv)
	code := func() (code int) {
		defer a.finish(&code)
		root := newRootCmd(a)
		root.AddCommand(&cobra.Command{Use: "boom", Run: func(*cobra.Command, []string) {
			fmt.Fprint(a.streams.Out, "partial line")
			panic(canary)
		}})
		root.SetArgs([]string{"boom"})
		return exitCode(a.streams.Err, root.Execute())
	}()
	if code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	if strings.Contains(out.String()+errOut.String(), canary) {
		t.Fatalf("panic value leaked: %q", errOut.String())
	}
	if want := "internal error (string at github.com/secretboot/secretboot/cmd/secretboot.TestPanicIsNotDumped"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", errOut.String(), want)
	}
	if out.String() != "partial line" {
		t.Errorf("stdout = %q, want the partial line flushed", out.String())
	}
}

func TestSandboxFlag(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantEnabled bool
		wantDir     string
	}{
		{"absent", []string{"version"}, false, "spec/.secretboot/sandbox"},
		{"bare", []string{"version", "--sandbox"}, true, "spec/.secretboot/sandbox"},
		{"single dash", []string{"version", "-sandbox"}, true, "spec/.secretboot/sandbox"},
		{"with dir", []string{"version", "--sandbox=/tmp/sb"}, true, "/tmp/sb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{streams: IOStreams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, lookupEnv: noEnv}
			root := newRootCmd(a)
			root.SetArgs(normalizeArgs(root, tt.args))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			got := []any{a.common.sandbox.enabled, a.common.sandbox.stateDir("spec")}
			if diff := cmp.Diff([]any{tt.wantEnabled, tt.wantDir}, got); diff != "" {
				t.Errorf("sandbox flag mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	info := func(version string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: version}, Settings: settings}, true
		}
	}
	tests := []struct {
		name    string
		ldflags string
		info    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{"module version", "", info("v1.2.3"), "secretboot v1.2.3 (go1.26.8)\n"},
		{"ldflags win", "v9.9.9", info("v1.2.3"), "secretboot v9.9.9 (go1.26.8)\n"},
		{"devel with vcs", "", info("(devel)",
			debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			debug.BuildSetting{Key: "vcs.modified", Value: "true"}),
			"secretboot (devel) (go1.26.8, commit 0123456789ab, modified)\n"},
		{"no build info", "", func() (*debug.BuildInfo, bool) { return nil, false }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readVersion(tt.ldflags, tt.info).line() + "\n"
			if tt.want == "" {
				if !strings.HasPrefix(got, "secretboot (devel) (go") {
					t.Errorf("versionLine = %q, want the devel fallback", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("versionLine mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	info := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "false"},
		}}, true
	}
	var out bytes.Buffer
	if err := runVersion(versionOptions{IO: IOStreams{Out: &out}, JSON: true, BuildInfo: info}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": "v1.2.3",
  "commit": "0123456789abcdef0123456789abcdef01234567",
  "modified": false,
  "go_version": "go1.26.8"
}
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("version -json mismatch (-want +got):\n%s", diff)
	}
}

// TestColor is the colour matrix: ANSI codes only when the streams allow
// colour and --no-color is absent.
func TestColor(t *testing.T) {
	dir := writeSpec(t, "project = \"x\"\nstage \"dev\" {\n  region = \"us-east-1\"\n}\nrole \"web\" {}\nsecret \"a\" {\n  readers = [role.nope]\n}\n")
	tests := []struct {
		name      string
		color     bool
		args      []string
		wantColor bool
	}{
		{"terminal", true, nil, true},
		{"terminal with --no-color", true, []string{"--no-color"}, false},
		{"terminal with -no-color", true, []string{"-no-color"}, false},
		{"not a terminal", false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"validate", "--spec", dir}, tt.args...)
			code, out, errOut := cliRun(t, IOStreams{ColorEnabled: tt.color}, args...)
			if code != exitError {
				t.Fatalf("exit code %d, want %d", code, exitError)
			}
			if got := strings.Contains(out+errOut, "\x1b["); got != tt.wantColor {
				t.Errorf("colour in output = %v, want %v:\n%q", got, tt.wantColor, errOut)
			}
		})
	}
}

func TestCommitTime(t *testing.T) {
	stamped := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.time", Value: "2026-11-30T09:15:00Z"}}}, true
	}
	if got := commitTime(stamped); got == nil || got.Format("Jan 2006") != "Nov 2026" {
		t.Errorf("commitTime(stamped) = %v, want November 2026", got)
	}
	unstamped := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{}, true }
	if got := commitTime(unstamped); got != nil {
		t.Errorf("commitTime(unstamped) = %v, want nil", got)
	}
}
