package views

// Colors is the one colour scheme of secretboot's human output. Each method
// names a meaning rather than a colour, so that a meaning looks the same in
// every command; with On false every method returns s unchanged, which is
// what pipes, logs, --no-color and NO_COLOR get.
type Colors struct {
	On bool
}

// ANSI SGR sequences; nothing else in secretboot writes them.
const (
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrRed    = "\x1b[31m"
	sgrCyan   = "\x1b[36m"
	sgrBold   = "\x1b[1m"
	sgrReset  = "\x1b[0m"
)

func (c Colors) paint(sgr, s string) string {
	if !c.On {
		return s
	}
	return sgr + s + sgrReset
}

// Good marks what went as wanted: a creation, an allowed cell, success.
func (c Colors) Good(s string) string { return c.paint(sgrGreen, s) }

// Bad marks what needs attention before anything else: a deletion, a
// failure, a denial the spec does not expect, an error.
func (c Colors) Bad(s string) string { return c.paint(sgrRed, s) }

// Caution marks a change in place and a warning that does not stop the run.
func (c Colors) Caution(s string) string { return c.paint(sgrYellow, s) }

// Restored marks a secret brought back from scheduled deletion.
func (c Colors) Restored(s string) string { return c.paint(sgrCyan, s) }

// Broadens marks a grant that widens access, the one thing a reviewer
// must not miss.
func (c Colors) Broadens(s string) string { return c.paint(sgrBold+sgrRed, s) }

// Strong marks what the eye should find first on a line: a source
// position, a live status.
func (c Colors) Strong(s string) string { return c.paint(sgrBold, s) }
