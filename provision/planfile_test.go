package provision_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/provision"
)

// TestWritePlanFileMasks checks that the masks rewrite the file's bytes, in
// order, before they reach the disk.
func TestWritePlanFileMasks(t *testing.T) {
	const canary = "canary-planfile-5b1e"
	p := &provision.Plan{FormatVersion: provision.FormatVersion, Header: provision.Header{Project: canary, Stage: "dev"}}
	replace := func(old, new string) provision.Mask {
		return func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(old), []byte(new)) }
	}
	path := filepath.Join(t.TempDir(), "plan.bin")
	if err := provision.WritePlanFile(path, p, replace(canary, "(first)"), replace("(first)", "(masked)")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), canary) || !strings.Contains(string(b), `"project": "(masked)"`) {
		t.Fatalf("plan file not masked in order:\n%s", b)
	}
	if err := provision.WritePlanFile(path, p); err != nil {
		t.Fatal(err)
	}
	if got, err := provision.ReadPlanFile(path); err != nil || got.Header.Project != canary {
		t.Fatalf("without masks: project %q, %v; want %q", got.Header.Project, err, canary)
	}
}
