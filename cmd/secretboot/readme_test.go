package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestREADMEFlow checks that testdata/script/readme_flow.txtar runs the
// README's quickstart commands exactly as the README writes them, so the
// README cannot drift from what works again.
func TestREADMEFlow(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- readme-flow:")
	if !ok {
		t.Fatal("README.md has no readme-flow marker")
	}
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	comment := regexp.MustCompile(`\s+#.*$`)
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		line = comment.ReplaceAllString(line, "")
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			want = append(want, "env "+rest)
		} else {
			want = append(want, "exec "+line)
		}
	}

	script, err := os.ReadFile("testdata/script/readme_flow.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(script), "\n") {
		if strings.HasPrefix(line, "exec secretboot ") || strings.HasPrefix(line, "env ") {
			got = append(got, line)
		}
	}
	if len(got) < len(want) {
		t.Fatalf("readme_flow.txtar runs %d commands, the README %d", len(got), len(want))
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("readme_flow.txtar does not start with the README's flow (-README +script):\n%s", diff)
	}
}
