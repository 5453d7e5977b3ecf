// Package fakeclock is a settable time source for tests of deletion
// windows, propagation delays and credential expiry.
package fakeclock

import (
	"sync"
	"time"
)

// Clock returns the time it was set to until advanced. It is safe for
// concurrent use: servers under test read it from their goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass it as a Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
