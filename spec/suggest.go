package spec

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// didYouMean is " Did you mean "x"?" for the candidate closest to a
// misspelt name, or "" when none is within two edits (HCL's own
// suggestions use the same reach). Only names the spec language or the
// spec itself declares are candidates, never a value.
func didYouMean(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted) // ties go to the first name in order, every run
	best, bestDist := "", 3
	for _, c := range sorted {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// schemaNames lists the attribute names of a block schema.
func schemaNames(s *hcl.BodySchema) []string {
	names := make([]string, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		names = append(names, a.Name)
	}
	return names
}
