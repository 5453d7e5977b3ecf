package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
)

// TestFormatGolden formats testdata/format/*.hcl and compares the result
// with the .golden file beside it; -update rewrites the golden files.
func TestFormatGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/format/*.hcl")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := Format(src)
			golden.Check(t, strings.TrimSuffix(in, ".hcl")+".golden", got)
			if again := Format(got); string(again) != string(got) {
				t.Error("Format is not idempotent")
			}
		})
	}
}

func TestFormatDir(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"b.hcl":     "project=\"p\"\n",
		"a.hcl":     "project = \"p\"\n",
		"notes.txt": "x=1",
	})
	got, err := FormatDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Name                string
		Original, Formatted string
		Changed             bool
	}
	var rs []result
	for _, r := range got {
		rs = append(rs, result{filepath.Base(r.Path), string(r.Original), string(r.Formatted), r.Changed()})
	}
	want := []result{
		{"a.hcl", "project = \"p\"\n", "project = \"p\"\n", false},
		{"b.hcl", "project=\"p\"\n", "project = \"p\"\n", true},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("FormatDir (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if on, _ := os.ReadFile(r.Path); string(on) != string(r.Original) {
			t.Errorf("FormatDir wrote %s", r.Path)
		}
	}

	t.Run("syntax error", func(t *testing.T) {
		dir := writeSpec(t, map[string]string{"a.hcl": "stage {\n"})
		if _, err := FormatDir(dir); err == nil {
			t.Error("FormatDir formatted a file that does not parse")
		}
	})
}

// TestExamplesAreFormatted keeps the shipped examples in canonical layout.
func TestExamplesAreFormatted(t *testing.T) {
	for _, dir := range []string{"../examples/webapp", "../examples/multistage"} {
		rs, err := FormatDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Changed() {
				t.Errorf("%s is not formatted:\n%s", r.Path, cmp.Diff(string(r.Original), string(r.Formatted)))
			}
		}
	}
}
