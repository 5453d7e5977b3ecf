package views

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/review"
)

// PolicyWritten says what review.Write did to one reviewer file; the
// grants are in the file's diff.
func PolicyWritten(w io.Writer, c Colors, s review.Stale) {
	mark, what := "~", "updated"
	switch s.Problem {
	case review.Missing:
		mark, what = "+", "new"
	case review.Extra:
		mark, what = "-", "removed: not in the spec"
	}
	if s.Problem != review.Missing && s.Broadens() {
		what += ", " + c.Bad("broadens access")
	}
	fmt.Fprintf(w, "  %s %s  (%s)\n", mark, filepath.Base(s.Path), what)
}

// PolicyStale lists stale reviewer files with the grants updating them
// would change.
func PolicyStale(w io.Writer, c Colors, stale []review.Stale) {
	for _, s := range stale {
		mark, what := "~", "changed"
		switch s.Problem {
		case review.Missing:
			mark, what = "+", "missing"
		case review.Extra:
			mark, what = "-", "not in the spec"
		}
		if s.Unparsable {
			what += ", not a policy document"
		}
		if s.Broadens() {
			what += ", " + c.Bad("broadens access")
		}
		fmt.Fprintf(w, "  %s %s  (%s)\n", mark, filepath.Base(s.Path), what)
		for _, g := range s.Grants {
			op := "-"
			if g.Added {
				op = "+"
			}
			line := fmt.Sprintf("      %s %s %s", op, strings.ToLower(g.Effect), g.Action)
			if g.Principal != "" {
				line += "  " + g.Principal
			}
			if g.Resource != "" {
				line += "  " + g.Resource
			}
			if g.Condition != "" {
				line += "  if " + g.Condition
			}
			if g.Broadens {
				line += "   " + c.Broadens("BROADENS")
			}
			fmt.Fprintln(w, line)
		}
	}
}

// PolicyNotes says which roles' read policies were split and which ARNs
// are still patterns.
func PolicyNotes(w io.Writer, docs []provision.RoleDocuments) {
	for _, rd := range docs {
		if n := len(rd.Layout.Managed); n > 0 {
			room := fmt.Sprintf("the %d-character inline limit", policy.DefaultLimits.InlineMax)
			if rd.OtherInline > 0 {
				room = fmt.Sprintf("the %d characters of inline room the role's other inline policies (%d characters) leave", policy.DefaultLimits.InlineRoom(rd.OtherInline), rd.OtherInline)
			}
			fmt.Fprintf(w, "Role %s: the read policy needs %d characters, over %s, so it is split into %d customer managed policies, %s.managed-N.json holding %s-N.\n",
				rd.Key, policy.Size(rd.Read), room, n, rd.Key, strings.TrimSuffix(rd.PartNames[0], "-1"))
		}
	}
	pending := map[string]bool{}
	var names []string
	for _, rd := range docs {
		for _, p := range rd.Pending {
			if !pending[p] {
				pending[p] = true
				names = append(names, p)
			}
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		fmt.Fprintf(w, "Pending: %s not created yet (%s); the files show \"<name>-??????\" until apply, then the exact ARN.\n",
			Plural(len(names), "secret"), strings.Join(names, ", "))
	}
}
