//go:build unix

package spec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFileRefusesSpecialFiles evaluates file() and filebase64() of files
// that are not regular: each must fail at once with an error that names the
// path as written, located at the call.
func TestFileRefusesSpecialFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to read
		want  string                                // in the detail
	}{
		{"fifo", func(t *testing.T, dir string) string {
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
			return "pipe"
		}, `pipe is a named pipe (FIFO), not a regular file`},
		{"symlink to fifo", func(t *testing.T, dir string) string {
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
			if err := os.Symlink("pipe", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return "link"
		}, `link is a symlink to a named pipe (FIFO), not a regular file`},
		{"dev zero", func(t *testing.T, dir string) string { return "/dev/zero" },
			`/dev/zero is a character device, not a regular file`},
		{"directory", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			return "sub"
		}, `sub is a directory, not a regular file`},
		{"socket", func(t *testing.T, dir string) string {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Skip("socket:", err)
			}
			defer syscall.Close(fd)
			// Socket paths are limited to about 100 bytes; t.TempDir may be longer.
			p := filepath.Join(dir, "s")
			if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: p}); err != nil {
				t.Skip("bind:", err)
			}
			return "s"
		}, `s is a socket, not a regular file`},
		{"too large", func(t *testing.T, dir string) string {
			if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 65537), 0o600); err != nil {
				t.Fatal(err)
			}
			return "big"
		}, `big is larger than 65,536 bytes`},
		{"missing", func(t *testing.T, dir string) string { return "nope" },
			`cannot read nope: no such file or directory`},
		{"dangling symlink", func(t *testing.T, dir string) string {
			if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
				t.Fatal(err)
			}
			return "dangling"
		}, `cannot read dangling: no such file or directory`},
	}
	for _, tt := range tests {
		for _, fn := range []string{"file", "filebase64"} {
			t.Run(tt.name+"/"+fn, func(t *testing.T) {
				dir := writeSpec(t, nil)
				path := tt.setup(t, dir)
				src := specReading(fn, path)
				if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				c, diags := Load(dir)
				if diags.HasErrors() {
					t.Fatal(renderDiags(c.Files(), diags))
				}
				start := time.Now()
				_, diags = c.Evaluate("dev", EvalOptions{})
				if d := time.Since(start); d > time.Second {
					t.Errorf("evaluation took %v", d)
				}
				if len(diags) != 1 || diags[0].Summary != "Error in function call" || !strings.Contains(diags[0].Detail, tt.want) {
					t.Fatalf("want one error with %q, got:\n%s", tt.want, renderDiags(c.Files(), diags))
				}
				if got := diags[0].Subject; got == nil || got.Start.Line != 8 {
					t.Errorf("error not located at the call (line 8): %v", got)
				}
			})
		}
	}
}

// TestFileFIFOReturns proves the FIFO case does not block: evaluation runs
// in a goroutine and must finish within a second even though no process
// ever opens the FIFO for writing.
func TestFileFIFOReturns(t *testing.T) {
	dir := writeSpec(t, map[string]string{"main.hcl": specReading("file", "pipe")})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	c, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	done := make(chan string, 1)
	go func() {
		_, diags := c.Evaluate("dev", EvalOptions{})
		done <- renderDiags(c.Files(), diags)
	}()
	select {
	case out := <-done:
		if !strings.Contains(out, "pipe is a named pipe (FIFO)") {
			t.Errorf("no error naming the FIFO:\n%s", out)
		}
	case <-time.After(time.Second):
		t.Fatal("file() of a FIFO blocked")
	}
}

// TestReadPayloadFileOpensWithoutBlocking covers the race that the type
// check cannot: a FIFO swapped in between the check and the open. Opening
// it with openFlags must return at once (the Stat of the opened file then
// refuses it).
func TestReadPayloadFileOpensWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(p, openFlags, 0)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("open with openFlags: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("opening a FIFO with openFlags blocked")
	}
}

// TestFileOutsideSpecDirectory checks the warning that names a file read
// from outside the spec directory, and its absence for files inside.
func TestFileOutsideSpecDirectory(t *testing.T) {
	outside := t.TempDir()
	secretFile := filepath.Join(outside, "credentials")
	if err := os.WriteFile(secretFile, []byte("aws_secret_access_key = abcdefgh"), 0o600); err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  func(dir string) string
		setup func(t *testing.T, dir string)
		want  []string // warning summaries
	}{
		{"inside", func(string) string { return "local.txt" }, nil, nil},
		{"subdirectory", func(string) string { return "sub/local.txt" }, nil, nil},
		{"absolute", func(string) string { return secretFile }, nil, []string{"warning: File outside the spec directory"}},
		{"dot-dot", func(dir string) string {
			rel, err := filepath.Rel(dir, secretFile)
			if err != nil {
				t.Fatal(err)
			}
			return rel
		}, nil, []string{"warning: File outside the spec directory"}},
		{"symlink out", func(string) string { return "link" }, func(t *testing.T, dir string) {
			if err := os.Symlink(secretFile, filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
		}, []string{"warning: File outside the spec directory"}},
		{"symlink in", func(string) string { return "link" }, func(t *testing.T, dir string) {
			if err := os.Symlink("local.txt", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSpec(t, map[string]string{"local.txt": "local value 1", "sub/local.txt": "local value 2"})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			path := tt.path(dir)
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(specReading("file", path)), 0o644); err != nil {
				t.Fatal(err)
			}
			c, diags := Load(dir)
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			d, diags := c.Evaluate("dev", EvalOptions{})
			if d == nil {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			if diff := cmp.Diff(tt.want, summaries(diags)); diff != "" {
				t.Fatalf("diagnostics (-want +got):\n%s\n%s", diff, renderDiags(c.Files(), diags))
			}
			if tt.want != nil {
				out := renderDiags(c.Files(), diags)
				for _, s := range []string{`Secret "app/s" reads ` + path, resolved, "main.hcl:8"} {
					if !strings.Contains(out, s) && !strings.Contains(diags[0].Subject.String(), s) {
						t.Errorf("warning lacks %q:\n%s", s, out)
					}
				}
			}
			if diff := cmp.Diff([]string{path}, d.PayloadFiles); diff != "" {
				t.Errorf("PayloadFiles (-want +got):\n%s", diff)
			}
		})
	}
}

// specReading is a spec whose only secret reads path with fn (on line 8).
func specReading(fn, path string) string {
	return `project = "p"
stage "dev" { region = "us-east-1" }
role "web" {}
secret "app/s" {
  readers = [role.web]
  value = {
    user = "app"
    pass = ` + fn + `(` + strconv.Quote(path) + `)
  }
}
`
}

// TestReadPayloadFileLimit reads files at and just over the Secrets
// Manager limit.
func TestReadPayloadFileLimit(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 65536, 65537, 1 << 20} {
		name := strconv.Itoa(n)
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
		b, _, err := readPayloadFile(dir, name)
		switch {
		case n <= 65536 && (err != nil || len(b) != n):
			t.Errorf("%d bytes: got %d bytes, %v", n, len(b), err)
		case n > 65536 && (err == nil || err.Error() != name+" is larger than 65,536 bytes, the most a secret can hold"):
			t.Errorf("%d bytes: got %v", n, err)
		}
	}
}
