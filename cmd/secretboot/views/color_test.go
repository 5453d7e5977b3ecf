package views

import "testing"

// TestColors pins the scheme: one SGR sequence per meaning, and plain text
// when colour is off, whatever the meaning.
func TestColors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paint func(Colors, string) string
		want  string
	}{
		{"Good", Colors.Good, "\x1b[32mx\x1b[0m"},
		{"Bad", Colors.Bad, "\x1b[31mx\x1b[0m"},
		{"Caution", Colors.Caution, "\x1b[33mx\x1b[0m"},
		{"Restored", Colors.Restored, "\x1b[36mx\x1b[0m"},
		{"Broadens", Colors.Broadens, "\x1b[1m\x1b[31mx\x1b[0m"},
		{"Strong", Colors.Strong, "\x1b[1mx\x1b[0m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.paint(Colors{On: true}, "x"); got != tc.want {
				t.Errorf("on: %q, want %q", got, tc.want)
			}
			if got := tc.paint(Colors{}, "x"); got != "x" {
				t.Errorf("off: %q, want %q", got, "x")
			}
		})
	}
}
