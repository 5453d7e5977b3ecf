package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/secretboot/secretboot/provision"
)

// ApplySummary writes what an apply (verb "Apply") or a destroy (verb
// "Destroy") did and what it cost, for the end of `secretboot apply`:
//
//	Apply complete: 6 changes made in 1.234s.
//	API calls: 42 · 3 retries · 1 throttled
//	  IAM PutRolePolicy   5 calls · 2 retries · 1 throttled
//
// Operations are listed only when they were retried or throttled,
// so the usual output is two lines and a slow apply explains itself.
func ApplySummary(w io.Writer, verb string, r *provision.ApplyResult) error {
	s := r.Summary
	var b strings.Builder
	if s.Failed+s.NotDone == 0 {
		fmt.Fprintf(&b, "%s complete: %s made in %s.\n", verb, plural(s.Changes, "change"), roundDuration(s.Duration))
	} else {
		fmt.Fprintf(&b, "%s incomplete: %s made, %d failed, %d not attempted, in %s.\n", verb, plural(s.Changes, "change"), s.Failed, s.NotDone, roundDuration(s.Duration))
	}
	fmt.Fprintf(&b, "API calls: %d · %s · %d throttled\n", s.Calls, plural(s.Retries, "retry"), s.Throttles)
	var rows [][2]string
	width := 0
	for _, o := range s.Ops {
		// Errors alone are not listed: the engine expects some (NoSuchEntity
		// from a clash check) and reports the ones that failed a change.
		if o.Retries+o.Throttles == 0 {
			continue
		}
		name := o.Service + " " + o.Operation
		detail := plural(o.Calls, "call") + " · " + plural(o.Retries, "retry") + " · " + fmt.Sprintf("%d throttled", o.Throttles)
		if o.Errors > 0 {
			detail += fmt.Sprintf(" · %d failed", o.Errors)
		}
		rows = append(rows, [2]string{name, detail})
		width = max(width, len(name))
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r[0], r[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// roundDuration keeps milliseconds: more digits are noise at a terminal.
func roundDuration(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
