package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// sameAsWhole fails unless parseFile gives src the body and diagnostics of
// one parse of the whole file, and reports whether it cut the file.
func sameAsWhole(t *testing.T, name string, src []byte) bool {
	t.Helper()
	want, wantDiags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	got, gotDiags := parseFile(src, name)
	if !reflect.DeepEqual(gotDiags, wantDiags) {
		t.Errorf("%s: diagnostics differ from a whole parse:\n got %v\nwant %v", name, gotDiags, wantDiags)
	}
	if !reflect.DeepEqual(got.Body, want.Body) {
		t.Errorf("%s: body differs from a whole parse", name)
	}
	if string(got.Bytes) != string(src) {
		t.Errorf("%s: the file's bytes are not the source", name)
	}
	return parseChunked(src, name) != nil
}

// withChunkSize sets chunkSize for the test.
func withChunkSize(t *testing.T, n int) {
	old := chunkSize
	chunkSize = n
	t.Cleanup(func() { chunkSize = old })
}

// TestParseChunksEveryRepositorySpec parses every .hcl file of the
// repository (examples, test data, the invalid corpus) cut before every
// line that may start an item, the smallest pieces there can be: each
// gives exactly the body and the diagnostics of a whole parse.
func TestParseChunksEveryRepositorySpec(t *testing.T) {
	withChunkSize(t, 1)
	cut := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == ".git" {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".hcl") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if sameAsWhole(t, path, src) {
			cut++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cut < 10 {
		t.Errorf("only %d files were parsed in pieces; the test proves little", cut)
	}
}

// TestParseChunksFallBack: a cut inside an item leaves a piece that does
// not parse alone; the file is then parsed whole, with the whole parse's
// diagnostics. Each source here is cut somewhere a piece cannot stand.
func TestParseChunksFallBack(t *testing.T) {
	withChunkSize(t, 1)
	tests := map[string]string{
		"heredoc":          "project = \"p\"\nrole \"a\" {\n  description = <<EOT\nsecret \"x\" {\n}\nEOT\n}\nrole \"b\" {}\n",
		"comment":          "project = \"p\"\n/*\nsecret \"x\" {\n}\n*/\nrole \"b\" {}\n",
		"unindented":       "project = \"p\"\nrole \"a\" {\ndescription = \"d\"\n}\n",
		"multi-line list":  "project = \"p\"\nsecret \"s\" {\n  readers = [\nrole.a,\n  ]\n}\n",
		"duplicate":        "project = \"p\"\nrole \"a\" {}\nproject = \"q\"\n",
		"invalid":          "project = \"p\"\nrole \"a\" {\n  description = \n}\nrole \"b\" {}\n",
		"unclosed":         "project = \"p\"\nrole \"a\" {\n",
		"stray close":      "project = \"p\"\n}\nrole \"a\" {}\n",
		"template":         "project = \"p\"\nrole \"a\" {\n  description = \"${\nupper(\"x\")}\"\n}\n",
		"CRLF and a BOM":   "\ufeffproject = \"p\"\r\nrole \"a\" {\r\n  description = \"d\"\r\n}\r\nrole \"b\" {}\r\n",
		"no final newline": "project = \"p\"\nrole \"a\" {}\nrole \"b\" {}",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			cut := sameAsWhole(t, name+".hcl", []byte(src))
			if want := name == "CRLF and a BOM" || name == "no final newline"; cut != want {
				t.Errorf("parsed in pieces: %v, want %v", cut, want)
			}
		})
	}
}

// TestParseChunksLargeSpec: a spec of a thousand blocks, in pieces of
// about 4 KB, parses to the whole parse's body, positions included, and
// Load decodes it to the same secrets and roles.
func TestParseChunksLargeSpec(t *testing.T) {
	var b strings.Builder
	b.WriteString("# a large spec\nproject = \"big\"\n\nstage \"dev\" {\n  region = \"us-east-1\"\n}\n\n")
	for i := range 20 {
		fmt.Fprintf(&b, "role \"r%02d\" {\n  description = <<-EOT\n    role %d\n    EOT\n}\n\n", i, i)
	}
	for i := range 1000 {
		fmt.Fprintf(&b, "secret \"app/s%04d\" {\n  readers = [role.r%02d]\n  value = {\n    host = \"h%d.internal\" # é\n    port = %d\n  }\n  generate \"password\" {\n    length = 24\n  }\n}\n\n", i, i%20, i, 5000+i)
	}
	src := []byte(b.String())
	withChunkSize(t, 4<<10)
	if !sameAsWhole(t, "big.hcl", src) {
		t.Fatal("the large spec was not parsed in pieces")
	}
	if n := len(chunkStarts(src, chunkSize)); n < 20 {
		t.Errorf("%d pieces, want at least 20", n)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(cfg.Secrets) != 1000 || len(cfg.Roles) != 20 {
		t.Fatalf("%d secrets and %d roles, want 1000 and 20", len(cfg.Secrets), len(cfg.Roles))
	}
	last := cfg.Secrets[999]
	if last.Name != "app/s0999" || last.DeclRange.Start.Line != 8+20*6+999*11 {
		t.Errorf("last secret %s declared at %v", last.Name, last.DeclRange)
	}
}
