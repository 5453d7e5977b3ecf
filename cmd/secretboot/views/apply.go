package views

import (
	"fmt"
	"io"
	"strings"
	"sync"
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
		fmt.Fprintf(&b, "%s complete: %s made in %s.\n", verb, Plural(s.Changes, "change"), roundDuration(s.Duration))
	} else {
		fmt.Fprintf(&b, "%s incomplete: %s made, %d failed, %d not attempted, in %s.\n", verb, Plural(s.Changes, "change"), s.Failed, s.NotDone, roundDuration(s.Duration))
	}
	fmt.Fprintf(&b, "API calls: %d · %s · %d throttled\n", s.Calls, Plural(s.Retries, "retry"), s.Throttles)
	var rows [][2]string
	width := 0
	for _, o := range s.Ops {
		// Errors alone are not listed: the engine expects some (NoSuchEntity
		// from a clash check) and reports the ones that failed a change.
		if o.Retries+o.Throttles == 0 {
			continue
		}
		name := o.Service + " " + o.Operation
		detail := Plural(o.Calls, "call") + " · " + Plural(o.Retries, "retry") + " · " + fmt.Sprintf("%d throttled", o.Throttles)
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

// Plural renders "1 secret" / "2 secrets", "1 retry" / "2 retries".
func Plural(n int, noun string) string {
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

// Progress is apply's provision.Observer: it prints one line per finished
// change. On a terminal it also keeps a live status line below them
// (done/total, in flight), which is rewritten in place and erased by Done;
// logs and pipes get only the permanent lines. Apply calls it from several
// goroutines.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	c        Colors
	live     bool // a terminal: draw the status line
	total    int
	finished int
	started  map[string]time.Time
}

// NewProgress reports on w the progress of a plan of total changes; live
// draws the status line, for a terminal.
func NewProgress(w io.Writer, c Colors, live bool, total int) *Progress {
	return &Progress{w: w, c: c, live: live, total: total, started: map[string]time.Time{}}
}

func (p *Progress) ChangeStarted(c provision.Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started[c.ID] = time.Now()
	p.drawStatus()
}

func (p *Progress) ChangeFinished(c provision.Change, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	took := time.Since(p.started[c.ID]).Round(10 * time.Millisecond)
	delete(p.started, c.ID)
	p.finished++
	p.clearStatus()
	what := strings.ReplaceAll(string(c.Kind), "_", " ") + " " + c.Name
	if err != nil {
		// The engine's errors name resources and AWS error codes, never payloads.
		fmt.Fprintf(p.w, "  %s %s %s: %v\n", p.c.Bad("✗"), c.Action, what, err)
	} else {
		fmt.Fprintf(p.w, "  %s %s %s (%s)\n", p.c.Good("✓"), pastTense(c), what, took)
	}
	p.drawStatus()
}

// Done erases the status line before the summary is printed.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearStatus()
}

func (p *Progress) drawStatus() {
	if !p.live {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K  %s %d/%d changes · %d in progress", p.c.Strong("applying"), p.finished, p.total, len(p.started))
	// The status line ends in no newline; a line-buffered (masked) stream
	// would hold it back until the next change.
	if f, ok := p.w.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
}

func (p *Progress) clearStatus() {
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func pastTense(c provision.Change) string {
	switch c.Action {
	case provision.ActionCreate:
		return "created"
	case provision.ActionRestore:
		return "restored"
	case provision.ActionDelete:
		if c.Kind == provision.KindSecret {
			return "scheduled deletion of"
		}
		return "deleted"
	}
	return "updated"
}
