package views

import (
	"strings"
	"unicode"

	"github.com/secretboot/secretboot/internal/escape"
)

// Spec text (names, descriptions, tags, warnings) reaches pull-request
// comments, where GitHub renders Markdown and some HTML. Whoever edits a
// spec could otherwise inject HTML (an <img onerror=…>, a </details> that
// unfolds the rest of the comment), break a table with a pipe, or format
// text as code or math. Every piece of spec text goes through one of the
// functions below; only the renderer writes tags, fences and delimiters.

// mdText escapes spec text for Markdown (internal/escape, which the output
// masker knows too).
func mdText(s string) string { return escape.Markdown(s) }

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

// htmlText escapes spec text for HTML (internal/escape).
func htmlText(s string) string { return escape.HTML(s) }

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
