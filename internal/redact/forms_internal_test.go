package redact

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/secretboot/secretboot/internal/escape"
)

// TestPlainSecretsEscapeToThemselves: Forms skips the text escapings for a
// plain secret because each of them returns it unchanged. If an escaper
// ever changed one of these bytes, that form would go unregistered.
func TestPlainSecretsEscapeToThemselves(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		if plain([]byte{byte(c)}) {
			all = append(all, byte(c))
		}
	}
	if len(all) != 26+26+10+2 {
		t.Fatalf("plain bytes: %q", all)
	}
	s := string(all)
	escapings := map[string]func(string) string{
		"json":         func(s string) string { return jsonEscaped(s, true) },
		"json-no-html": func(s string) string { return jsonEscaped(s, false) },
		"quote":        func(s string) string { q := strconv.Quote(s); return q[1 : len(q)-1] },
		"quote-ascii":  func(s string) string { q := strconv.QuoteToASCII(s); return q[1 : len(q)-1] },
		"url-query":    url.QueryEscape,
		"url-path":     url.PathEscape,
		"markdown":     escape.Markdown,
		"html":         escape.HTML,
		"mermaid":      escape.Mermaid,
	}
	for name, esc := range escapings {
		if got := esc(s); got != s {
			t.Errorf("%s changes a plain secret: %q", name, got)
		}
	}
	// And the ones that do escape are not plain.
	for _, c := range []byte("_~ <&\"\\%+/:@*") {
		if plain([]byte{c}) {
			t.Errorf("%q counted plain", c)
		}
	}
}
