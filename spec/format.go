package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout (hclwrite): aligned equals
// signs, normalised indentation and spacing. It does not reorder anything.
func Format(src []byte) []byte { return hclwrite.Format(src) }

// FormatResult is one file of a FormatDir run.
type FormatResult struct {
	Path      string
	Original  []byte
	Formatted []byte
}

// Changed reports whether formatting changes the file.
func (r FormatResult) Changed() bool { return !bytes.Equal(r.Original, r.Formatted) }

// FormatDir formats every *.hcl file of dir, sorted by path, without
// writing anything. A file that does not parse is an error: formatting
// broken syntax could move text the user has not seen yet: the fmt command decides whether to write, diff or
// check.
func FormatDir(dir string) ([]FormatResult, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	results := make([]FormatResult, 0, len(paths))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if _, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos); diags.HasErrors() {
			return nil, fmt.Errorf("%s does not parse, so it is not formatted: %w", p, diags)
		}
		results = append(results, FormatResult{Path: p, Original: src, Formatted: Format(src)})
	}
	return results, nil
}
