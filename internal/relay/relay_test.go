package relay_test

import (
	"sync"
	"testing"

	"github.com/secretboot/secretboot/internal/relay"
)

// TestRethrowsOnTheWaitingGoroutine: a worker's panic reaches the
// goroutine that waits, where a recover sees it, and the process lives.
func TestRethrowsOnTheWaitingGoroutine(t *testing.T) {
	got := func() (v any) {
		defer func() { v = recover() }()
		var r relay.Relay
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				defer r.Catch()
				if i == 2 {
					panic("worker 2")
				}
			})
		}
		wg.Wait()
		r.Rethrow()
		return nil
	}()
	if got != "worker 2" {
		t.Fatalf("recovered %v, want the worker's panic", got)
	}
}

func TestNoPanicNoRethrow(t *testing.T) {
	var r relay.Relay
	func() { defer r.Catch() }()
	r.Rethrow() // must not panic
}
