package views

import (
	"html"
	"strings"
	"unicode"
)

// Spec text (names, descriptions, tags, warnings) reaches pull-request
// comments, where GitHub renders Markdown and some HTML. Whoever edits a
// spec could otherwise inject HTML (an <img onerror=…>, a </details> that
// unfolds the rest of the comment), break a table with a pipe, or format
// text as code or math. Every piece of spec text goes through one of the
// functions below; only the renderer writes tags, fences and delimiters.

// mdText escapes s for Markdown prose and table cells: HTML's characters
// become entities, Markdown's active characters are backslash-escaped, and
// line breaks and other control characters become spaces, so s stays on
// its line and in its cell.
func mdText(s string) string {
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

// mdCode shows s as inline code when nothing in it can end the code span,
// split a table cell or look like HTML (true of every name AWS accepts),
// and as escaped text otherwise.
func mdCode(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return strings.ContainsRune("`|<>&\\", r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}) {
		return mdText(s)
	}
	return "`" + s + "`"
}

// htmlText escapes s for the inside of the renderer's own HTML tags
// (<summary>), on one line: a blank line would end the HTML block.
func htmlText(s string) string {
	return html.EscapeString(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

// codeFence returns a backtick fence longer than any run of backticks in
// body, so that body cannot close the fenced block early.
func codeFence(body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
