package main

import (
	"fmt"
	"strconv"
)

// ANSI SGR colours used in human-readable output.
const (
	red   = 31
	green = 32
	bold  = 1
)

// paint wraps s in an ANSI colour when colour is on.
func paint(on bool, sgr int, s string) string {
	if !on {
		return s
	}
	return "\x1b[" + strconv.Itoa(sgr) + "m" + s + "\x1b[0m"
}

// plural renders "1 secret" / "2 secrets".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
