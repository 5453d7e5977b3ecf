// Package relay carries a panic from worker goroutines to the goroutine
// that waits for them. A panic left to kill the process prints a runtime
// traceback, argument words included, on the raw standard error, past the
// CLI's output masker and before its top-level recover could turn it into
// a one-line message without values; re-panicking on the waiting
// goroutine hands it to that recover. Every goroutine that evaluates a
// spec or calls AWS for the CLI runs under a Relay.
package relay

import "sync"

// Relay records the first panic of its workers. The zero value is ready.
type Relay struct {
	mu sync.Mutex
	v  any
}

// Catch records a panic of the worker goroutine. Defer it directly in the
// worker, after (so that it runs before) the deferred wg.Done.
func (r *Relay) Catch() {
	if v := recover(); v != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.v == nil {
			r.v = v
		}
	}
}

// Rethrow re-panics with the first recorded panic; call it after the
// workers are done.
func (r *Relay) Rethrow() {
	r.mu.Lock()
	v := r.v
	r.mu.Unlock()
	if v != nil {
		panic(v)
	}
}
