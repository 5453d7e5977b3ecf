//go:build unix

package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestQuitSignalPrintsNoDump sends SIGQUIT and SIGABRT to a built binary
// serving the sandbox: by default it quits with a notice and no goroutine
// dump (whose argument words could be payload bytes); with GOTRACEBACK set
// the runtime's dump is back, as the user asked.
func TestQuitSignalPrintsNoDump(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "secretboot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name      string
		sig       syscall.Signal
		env       []string
		wantCode  int
		wantDump  bool
		wantInErr string
	}{
		{"SIGQUIT", syscall.SIGQUIT, nil, 128 + int(syscall.SIGQUIT), false, "secretboot: quit: quitting without a goroutine dump"},
		{"SIGABRT", syscall.SIGABRT, nil, 128 + int(syscall.SIGABRT), false, "secretboot: aborted: quitting without a goroutine dump"},
		{"GOTRACEBACK set by the user", syscall.SIGQUIT, []string{"GOTRACEBACK=single"}, 2, true, "SIGQUIT: quit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, "sandbox", "serve", "-addr", "127.0.0.1:0")
			cmd.Env = withoutGOTRACEBACK(os.Environ(), tt.env)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(stderr)
			var errOut strings.Builder
			started := make(chan error, 1)
			go func() {
				line, err := r.ReadString('\n')
				errOut.WriteString(line)
				started <- err
			}()
			select {
			case err := <-started:
				if err != nil {
					t.Fatalf("reading stderr: %v", err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the sandbox did not start")
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r) // until the process exits
			errOut.Write(rest)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.wantCode {
				t.Errorf("exit: %v, want code %d", err, tt.wantCode)
			}
			if got := dumpHeader.MatchString(errOut.String()); got != tt.wantDump {
				t.Errorf("goroutine dump = %v, want %v:\n%s", got, tt.wantDump, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantInErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantInErr, errOut.String())
			}
		})
	}
}

// dumpHeader starts each goroutine of a runtime dump.
var dumpHeader = regexp.MustCompile(`goroutine [0-9]+ `)

// withoutGOTRACEBACK drops GOTRACEBACK from env unless keep sets it: the
// developer's own setting must not decide the test.
func withoutGOTRACEBACK(env, keep []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOTRACEBACK=") {
			out = append(out, kv)
		}
	}
	return append(out, keep...)
}
