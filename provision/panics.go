package provision

import (
	"errors"
	"sync"
)

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

// observeParallelism bounds the concurrent per-role reads of an
// observation, well inside IAM's read quota.
const observeParallelism = 8

// forEachParallel runs fn for every item, at most limit at a time, relays
// a worker's panic to the caller and joins the errors in item order.
func forEachParallel[T any](items []T, limit int, fn func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	var panics relay
	sem := make(chan struct{}, limit)
	for i, item := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer panics.catch()
			errs[i] = fn(item)
		}()
	}
	wg.Wait()
	panics.rethrow()
	return errors.Join(errs...)
}
