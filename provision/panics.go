package provision

import "sync"

// relay carries a panic from worker goroutines to the goroutine that waits
// for them. A panic left to kill the process prints a runtime traceback,
// argument words included, before the CLI's top-level recover could turn
// it into a one-line message without values; re-panicking on the waiting
// goroutine hands it to that recover.
type relay struct {
	mu sync.Mutex
	v  any
}

// catch records a panic of the worker goroutine. Defer it directly in the
// worker, after (so that it runs before) the deferred wg.Done.
func (r *relay) catch() {
	if v := recover(); v != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.v == nil {
			r.v = v
		}
	}
}

// rethrow re-panics with the first recorded panic; call it after the
// workers are done.
func (r *relay) rethrow() {
	r.mu.Lock()
	v := r.v
	r.mu.Unlock()
	if v != nil {
		panic(v)
	}
}
