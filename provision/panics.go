package provision

import (
	"errors"
	"sync"

	"github.com/secretboot/secretboot/internal/relay"
)

// observeParallelism bounds the concurrent per-role reads of an
// observation, well inside IAM's read quota.
const observeParallelism = 8

// forEachParallel runs fn for every item, at most limit at a time, relays
// a worker's panic to the caller and joins the errors in item order.
func forEachParallel[T any](items []T, limit int, fn func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	var panics relay.Relay
	sem := make(chan struct{}, limit)
	for i, item := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer panics.Catch()
			errs[i] = fn(item)
		}()
	}
	wg.Wait()
	panics.Rethrow()
	return errors.Join(errs...)
}
