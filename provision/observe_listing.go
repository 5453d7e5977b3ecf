package provision

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/spec"
)

// The partitioned secret listing. ListSecrets pages are sequential (each
// needs the previous page's token), so one listing of 10,000 secrets is
// 101 round trips in a row, while the quota allows 100 pages a second. A
// large stage is therefore listed in partitions run in parallel, chosen
// from the spec's names (listingFilters): a partition is a name prefix p
// with sub-partitions q1 … qk below it (k ≤ 9), each partitioned in
// turn, and one rest listing whose one name filter holds p and the
// negations !q1 … !qk; a small partition is one listing of its prefix.
//
// Why nothing is missed: take a secret whose name starts with p (at the
// top, the stage's name prefix). Either it starts with some qi, and is
// found, by induction, in qi's listings, or it starts with none. Then it
// matches the rest filter's positive value and none of its negated
// values, so it is in the rest's answer under every reading of how
// ListSecrets combines a filter's values: as the sandbox does (some
// positive value and no negated one), ORed, or ANDed. The readings other
// than the sandbox's return more (secrets listed twice, or outside the
// prefix), which the same name-keyed merge and prefix check as the single
// listing absorb. A name filter is a documented, case-sensitive prefix
// match. A secret created or deleted while the listings run is seen or
// not as with one listing, which is no more atomic.

const (
	// listingMinPages is the size, in pages of the spec's secrets, from
	// which the listing is partitioned: below it, the extra calls of the
	// partitions (a partial last page each, and the rest) buy little.
	listingMinPages = 20
	// maxPartitions leaves room for the stage's name prefix beside one
	// negation per partition in the rest's filter, whose values ListSecrets
	// caps at 10.
	maxPartitions = 9
	listPageSize  = 100
)

// listSecrets lists every secret whose name starts with the stage's name
// prefix, scheduled for deletion or not, handing each page to page, which
// may be called concurrently.
func listSecrets(ctx context.Context, s *Session, d *spec.Desired, page func([]smtypes.SecretListEntry)) error {
	listings := listingFilters(d)
	return forEachParallel(listings, len(listings), func(values []string) error {
		what := "*"
		if len(values) > 0 {
			what = values[0] + "*" // a listing's first value is its prefix
		}
		return listByName(ctx, s, values, what, page)
	})
}

// listByName pages through ListSecrets with one name filter of values
// (none when empty).
func listByName(ctx context.Context, s *Session, values []string, what string, page func([]smtypes.SecretListEntry)) error {
	in := &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true), MaxResults: aws.Int32(listPageSize)}
	if len(values) > 0 {
		in.Filters = []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: values}}
	}
	p := secretsmanager.NewListSecretsPaginator(s.SecretsManager, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return wrap(err, "listing secrets", what)
		}
		page(out.SecretList)
	}
	return nil
}

// listingFilters returns the name filters' values of the listings of d's
// secrets: one listing by the stage's name prefix (none without one) for
// a stage of fewer than listingMinPages pages; else a partitioning in
// which no listing holds more than about a tenth of the spec's names.
func listingFilters(d *spec.Desired) [][]string {
	if d.NamePrefix == "" {
		return [][]string{nil}
	}
	names := []string{StageKeyName(d)}
	for _, sec := range d.Secrets {
		if strings.HasPrefix(sec.Name, d.NamePrefix) {
			names = append(names, sec.Name)
		}
	}
	total := pagesOf(len(names))
	if total < listingMinPages {
		return [][]string{{d.NamePrefix}}
	}
	sort.Strings(names)
	limit := (total + 9) / 10 * listPageSize
	return listingNode{names: names, prefix: d.NamePrefix}.filters(limit)
}

// listingNode is the spec's names under a prefix, sorted.
type listingNode struct {
	names  []string
	prefix string
}

// filters partitions the listing of n's prefix into listings of at most
// limit of the spec's names where it can: n's prefix alone when n is
// small enough; else the children of the names' longest common prefix
// (one per next character), largest first, as sub-partitions until what
// remains is small enough or maxPartitions are taken, and a rest listing:
// n's prefix with a negation of each sub-partition's. Each sub-partition
// is partitioned in turn.
func (n listingNode) filters(limit int) [][]string {
	if len(n.names) <= limit {
		return [][]string{{n.prefix}}
	}
	children := n.common().children()
	sort.SliceStable(children, func(i, j int) bool { return len(children[i].names) > len(children[j].names) })
	rest := []string{n.prefix}
	var out [][]string
	remaining := len(n.names)
	for _, c := range children {
		if remaining <= limit || len(rest) > maxPartitions {
			break
		}
		rest = append(rest, "!"+c.prefix)
		remaining -= len(c.names)
		out = append(out, c.filters(limit)...)
	}
	return append([][]string{rest}, out...)
}

// common is n with its prefix extended to its names' longest common
// prefix.
func (n listingNode) common() listingNode {
	first, last := n.names[0], n.names[len(n.names)-1] // sorted: their common prefix is everyone's
	i := len(n.prefix)
	for i < len(first) && i < len(last) && first[i] == last[i] {
		i++
	}
	return listingNode{names: n.names, prefix: first[:i]}
}

// children splits n by the character after its prefix; a name equal to
// the prefix is under no child.
func (n listingNode) children() []listingNode {
	var out []listingNode
	for i, name := range n.names {
		if len(name) == len(n.prefix) {
			continue
		}
		prefix := name[:len(n.prefix)+1]
		if k := len(out); k > 0 && out[k-1].prefix == prefix {
			out[k-1].names = n.names[i-len(out[k-1].names) : i+1]
			continue
		}
		out = append(out, listingNode{names: n.names[i : i+1], prefix: prefix})
	}
	return out
}

// pagesOf is the number of ListSecrets pages n secrets take, at least one.
func pagesOf(n int) int { return max(1, (n+listPageSize-1)/listPageSize) }
