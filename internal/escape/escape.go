// Package escape holds the escapings the program writes spec text in:
// Markdown (pull-request comments), HTML (inside Markdown's <details>),
// Mermaid and Graphviz DOT labels, and HCL strings and heredocs (the
// installers' Terraform).
// They live here, not beside their writers, because the output masker
// (internal/redact) must know every form a value can take in an output:
// one definition serves both, so they cannot drift apart.
package escape

import (
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode"
)

// Markdown escapes s for Markdown text and table cells: HTML's special
// characters as entities, Markdown's backslash-escaped, and line breaks and
// other control characters as spaces, so that s cannot end a table row,
// open a link or inject HTML.
func Markdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_[]~|$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HTML escapes s for HTML text, control characters and line separators
// as spaces.
func HTML(s string) string {
	return html.EscapeString(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

// Mermaid escapes s for a quoted Mermaid label: ASCII letters, digits and
// " ./_:+=,@-" stay, everything else becomes Mermaid's #NNN; code.
func Mermaid(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" ./_:+=,@-", r)) {
			b.WriteRune(r)
			continue
		}
		b.WriteString("#" + strconv.Itoa(int(r)) + ";")
	}
	return b.String()
}

// DOT escapes s for a quoted Graphviz DOT label, without the quotes:
// backslashes (DOT's label escapes) and quotes escaped, control characters
// as spaces.
func DOT(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return dotReplacer.Replace(s)
}

// The replacers are built once: building one costs more than using it.
var (
	dotReplacer         = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	hclEscapesReplacer  = strings.NewReplacer(`\\`, `\\`, `\b`, `\u0008`, `\f`, `\u000c`)
	hclTemplateReplacer = strings.NewReplacer("${", "$${", "%{", "%%{")
)

// JSONString is s as a JSON string, quotes included.
func JSONString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic("encoding a string: " + err.Error()) // a string always encodes
	}
	return string(b)
}

// HCLString quotes s as an HCL string literal: JSON's escapes but \b and
// \f, which HCL lacks (\u0008 and \u000c instead), and "${" and "%{",
// which would start a template sequence, doubled.
func HCLString(s string) string {
	return HCLHeredoc(hclEscapesReplacer.Replace(JSONString(s)))
}

// HCLHeredoc is s as the body of a <<EOT heredoc, which keeps every byte
// but template sequences; the caller makes sure no line of s is the
// heredoc's end marker.
func HCLHeredoc(s string) string {
	return hclTemplateReplacer.Replace(s)
}
