package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/secretboot/secretboot/internal/atomicfile"
)

const (
	stateFile = "state.json"
	// saveDelay batches the writes of a burst of changes into one file
	// write; Close writes whatever is still pending.
	saveDelay = 50 * time.Millisecond
)

// persister saves the state to dir/state.json, atomically: a temporary file
// in the same directory is written, synced and renamed over the old one, so
// a crash leaves either the old or the new state, never half of one.
type persister struct {
	dir      string
	snapshot func() (*state, error)

	mu      sync.Mutex // serialises saves and guards the fields below
	pending *time.Timer
	closed  bool
	lastErr error
}

func newPersister(dir string, snapshot func() (*state, error)) (*persister, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: creating state directory: %w", err)
	}
	return &persister{dir: dir, snapshot: snapshot}, nil
}

// load restores the saved state, if there is one.
func (p *persister) load(restore func(*state) error) error {
	b, err := os.ReadFile(filepath.Join(p.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: reading state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("sandbox: decoding %s: %w", filepath.Join(p.dir, stateFile), err)
	}
	if err := restore(&st); err != nil {
		return fmt.Errorf("sandbox: restoring %s: %w", filepath.Join(p.dir, stateFile), err)
	}
	return nil
}

// changed schedules a save.
func (p *persister) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.pending != nil {
		return
	}
	p.pending = time.AfterFunc(saveDelay, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.pending == nil { // Close got here first
			return
		}
		p.pending = nil
		p.lastErr = p.save()
	})
}

// close writes pending changes and stops saving. It reports the first
// failed save since the previous close, so that a broken disk is not
// silently ignored.
func (p *persister) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return p.lastErr
	}
	p.closed = true
	if p.pending != nil {
		p.pending.Stop()
		p.pending = nil
		if err := p.save(); err != nil {
			p.lastErr = err
		}
	}
	return p.lastErr
}

// save writes the state; the caller holds p.mu.
func (p *persister) save() error {
	st, err := p.snapshot()
	if err != nil {
		return fmt.Errorf("sandbox: snapshot: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("sandbox: encoding state: %w", err)
	}
	// 0600: the state holds every payload.
	if err := atomicfile.Write(filepath.Join(p.dir, stateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("sandbox: saving state: %w", err)
	}
	return nil
}
