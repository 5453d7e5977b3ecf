package provision

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/secretboot/secretboot/internal/atomicfile"
)

// A Mask rewrites a file's bytes just before they are written. The CLI
// passes its output masker's (internal/redact), so that a payload that
// reached a file through a bug is replaced rather than saved.
type Mask func([]byte) []byte

// WritePlanFile saves a plan for a later `apply PLANFILE`. The file holds
// the plan and what it observed (version ids, hashes, the spec hash) and no
// payload, so it may be kept as a CI artifact; it is written atomically with
// mode 0644, after the masks, in order, rewrote its bytes.
func WritePlanFile(path string, p *Plan, masks ...Mask) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding plan: %w", err)
	}
	b = append(b, '\n')
	for _, m := range masks {
		b = m(b)
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	return nil
}

// ReadPlanFile loads a plan saved by WritePlanFile. A file of another major
// format version is refused.
func ReadPlanFile(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan file: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading plan file %s: not a secretboot plan: %w", path, err)
	}
	if major(p.FormatVersion) != major(FormatVersion) {
		return nil, fmt.Errorf("reading plan file %s: format version %q is not supported (this secretboot writes %s)", path, p.FormatVersion, FormatVersion)
	}
	return &p, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
