package provision

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/spec"
)

func namedDesired(prefix string, names []string) *spec.Desired {
	d := &spec.Desired{Project: "p", Stage: "s", NamePrefix: prefix}
	for _, n := range names {
		d.Secrets = append(d.Secrets, &spec.Secret{Name: prefix + n})
	}
	return d
}

// zipfNames are names like internal/scale's: "svcNNN/db-IIIII", the
// owner drawn from a Zipf law, so one owner holds about a quarter.
func zipfNames(n, r int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(rng, 1.2, 1, uint64(r-1))
	var names []string
	for i := range n {
		kind := []string{"db", "db", "db", "config", "api-token"}[rng.IntN(5)]
		names = append(names, fmt.Sprintf("svc%03d/%s-%05d", z.Uint64(), kind, i))
	}
	return names
}

// matchesFilter is a name filter's match as the sandbox reads it (some
// positive value and no negated one), or as an OR of the values.
func matchesFilter(name string, values []string, or bool) bool {
	pos, neg := false, false
	for _, v := range values {
		if n, ok := strings.CutPrefix(v, "!"); ok {
			if strings.HasPrefix(name, n) {
				neg = true
			} else if or {
				return true
			}
		} else if strings.HasPrefix(name, v) {
			pos = true
		}
	}
	if or {
		return pos
	}
	return pos && !neg
}

// TestListingFilters checks the partitions of the secret listing: one
// listing below listingMinPages; otherwise filters of at most 10 values
// under which every name that starts with the stage's name prefix (the
// spec's, and others: equal to a partition's prefix, or under none) is
// in exactly one listing as the sandbox reads filters and in at least one
// if ListSecrets ORed the values, and the longest listing is short.
func TestListingFilters(t *testing.T) {
	letters := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%c%05d", 'a'+i%26, i))
		}
		return out
	}
	common := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("very/long/common/part/%04d", i))
		}
		return out
	}
	tests := []struct {
		name string
		d    *spec.Desired
		want [][]string // nil: partitioned
		// longest is the most pages a listing may take: a tenth of one
		// listing's, except where a prefix has more than maxPartitions
		// large children (the others stay in its rest listing).
		longest int
	}{
		{"small", namedDesired("prod/", zipfNames(1000, 50)), [][]string{{"prod/"}}, 0},
		{"no name prefix", namedDesired("", zipfNames(5000, 50)), [][]string{nil}, 0},
		{"zipf 10,000", namedDesired("prod/", zipfNames(10000, 200)), nil, 11},
		{"zipf 5,000", namedDesired("prod/", zipfNames(5000, 10)), nil, 6},
		{"26 first letters", namedDesired("prod/", letters(10000)), nil, 66},
		{"one long common prefix", namedDesired("prod/", common(3000)), nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listingFilters(tt.d)
			if tt.want != nil {
				if !slices.EqualFunc(got, tt.want, slices.Equal) {
					t.Fatalf("filters %q, want %q", got, tt.want)
				}
				return
			}
			spec := []string{StageKeyName(tt.d)}
			for _, s := range tt.d.Secrets {
				spec = append(spec, s.Name)
			}
			others := []string{tt.d.NamePrefix, tt.d.NamePrefix + "@other", "elsewhere/x"}
			for _, f := range got {
				if len(f) > 10 {
					t.Errorf("filter of %d values: %q", len(f), f)
				}
				for _, v := range f {
					others = append(others, strings.TrimPrefix(v, "!"), strings.TrimPrefix(v, "!")+"@")
				}
			}
			perListing := make([]int, len(got))
			for i, name := range append(spec, others...) {
				in, inOr := 0, 0
				for j, f := range got {
					if matchesFilter(name, f, false) {
						in++
						if i < len(spec) {
							perListing[j]++
						}
					}
					if matchesFilter(name, f, true) {
						inOr++
					}
				}
				want := 0
				if strings.HasPrefix(name, tt.d.NamePrefix) {
					want = 1
				}
				if in != want || inOr < want {
					t.Errorf("%s is in %d listings (%d if values were ORed), want %d", name, in, inOr, want)
				}
			}
			pages, longest := 0, 0
			for _, n := range perListing {
				pages += pagesOf(n)
				longest = max(longest, pagesOf(n))
			}
			if longest > tt.longest {
				t.Errorf("longest listing %d pages, want at most %d: %v", longest, tt.longest, perListing)
			}
			t.Logf("%d listings, %d pages (one listing: %d), longest %d", len(got), pages, pagesOf(len(spec)), longest)
		})
	}
}
