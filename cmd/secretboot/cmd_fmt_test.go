package main

import (
	"strings"
	"testing"

	"github.com/secretboot/secretboot/spec"
)

// TestDiffHidesPayloads covers the layouts a payload attribute can take:
// a heredoc, a one-line block, the last line of a file without a newline.
func TestDiffHidesPayloads(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // lines the diff must hold
	}{
		{"heredoc", "secret \"a\" {\nreaders=[]\n  value = <<EOT\ncanary-heredoc-1\n  canary-heredoc-2\nEOT\n}\n",
			[]string{"-  value = (payload hidden)\n", "+  value = (payload hidden; formatting changed it)\n", "+  readers = []\n"}},
		{"one-line block", "secret \"a\" {   value = \"canary-oneline\" }\nrole  \"b\" {}\n",
			[]string{"-value = (payload hidden)\n", "+value = (payload hidden; formatting changed it)\n"}},
		{"no final newline", "role \"b\" {\n}\nsecret \"a\" {\n  binary =   filebase64(\"canary-nonl\")\n}",
			[]string{"+  binary = (payload hidden; formatting changed it)\n"}},
		{"other blocks are shown", "role \"b\" {\n  value=\"shown\"\n}\n",
			[]string{"-  value=\"shown\"\n", "+  value = \"shown\"\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := spec.FormatResult{Path: "main.hcl", Original: []byte(tt.src), Formatted: spec.Format([]byte(tt.src))}
			if !r.Changed() {
				t.Fatal("the fixture needs formatting")
			}
			got := string(diffHidingPayloads(r))
			if strings.Contains(got, "canary-") {
				t.Fatalf("payload in the diff:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diff lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
