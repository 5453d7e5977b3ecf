package views

import (
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/secretboot/secretboot/internal/escape"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
)

// An accessGraph is who reads what: roles → secrets, an edge per role,
// secret and state labelled with the actions. The plan's graph holds the
// grants it adds and removes; verify's holds the matrix, with access beyond
// the spec and access the spec grants but IAM denies set apart. Mermaid
// (for GitHub) and DOT (for Graphviz) render the same graph.
type accessGraph struct {
	Roles   []string // sorted
	Secrets []string // sorted
	Edges   []accessEdge
}

// edgeState is how an edge is drawn.
type edgeState int

const (
	edgeKept    edgeState = iota // plain
	edgeAdded                    // highlighted: a grant added, access beyond the spec
	edgeRemoved                  // dashed: a grant removed, access the spec grants that is denied
)

type accessEdge struct {
	Role, Secret string
	State        edgeState
	Label        string
}

// Mermaid refuses diagrams of more than 500 edges or 50,000 characters
// unless the page that runs it raises its maxEdges and maxTextSize, which a
// comment cannot; past them the Markdown says so instead of a diagram.
const (
	mermaidMaxEdges = 500
	mermaidMaxText  = 50000
)

// graphBuilder collects edges keyed by role, secret and state, each with
// its set of actions.
type graphBuilder struct {
	roles, secrets map[string]bool
	actions        map[accessEdge][]string // Label unset in the key
}

func newGraphBuilder() *graphBuilder {
	return &graphBuilder{roles: map[string]bool{}, secrets: map[string]bool{}, actions: map[accessEdge][]string{}}
}

func (g *graphBuilder) node(role, secret string) {
	if role != "" {
		g.roles[role] = true
	}
	if secret != "" {
		g.secrets[secret] = true
	}
}

func (g *graphBuilder) add(role, secret string, state edgeState, action string) {
	g.node(role, secret)
	k := accessEdge{Role: role, Secret: secret, State: state}
	if !slices.Contains(g.actions[k], action) {
		g.actions[k] = append(g.actions[k], action)
	}
}

// build labels each edge with its actions, in the order they were added
// (the plan's and verify's orders are both deterministic), and sorts.
func (g *graphBuilder) build(label func(edgeState, []string) string) *accessGraph {
	out := &accessGraph{}
	for r := range g.roles {
		out.Roles = append(out.Roles, r)
	}
	for s := range g.secrets {
		out.Secrets = append(out.Secrets, s)
	}
	slices.Sort(out.Roles)
	slices.Sort(out.Secrets)
	for k, acts := range g.actions {
		k.Label = label(k.State, acts)
		out.Edges = append(out.Edges, k)
	}
	slices.SortFunc(out.Edges, func(a, b accessEdge) int {
		if c := strings.Compare(a.Role, b.Role); c != 0 {
			return c
		}
		if c := strings.Compare(a.Secret, b.Secret); c != 0 {
			return c
		}
		return int(a.State) - int(b.State)
	})
	return out
}

// planGraph is the access a plan changes: a role → secret edge per grant
// added or removed on a secret (grants on KMS keys are in the grant lists).
func planGraph(p *provision.Plan) *accessGraph {
	g := newGraphBuilder()
	for _, c := range p.Changes {
		if c.Policy == nil {
			continue
		}
		for _, gr := range c.Policy.Grants {
			secret, ok := secretOfARN(gr.Resource)
			if !ok {
				continue
			}
			state := edgeAdded
			if gr.Op == "remove" {
				state = edgeRemoved
			}
			g.add(c.Policy.Role, secret, state, verifyColumn(gr.Action))
		}
	}
	return g.build(func(s edgeState, acts []string) string {
		sign := "+ "
		if s == edgeRemoved {
			sign = "- "
		}
		return sign + strings.Join(acts, ", ")
	})
}

// secretOfARN is the secret name of a Secrets Manager ARN, without the
// six characters AWS appends (or the "-??????" of a pending secret).
func secretOfARN(arn string) (string, bool) {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":secretsmanager:") {
		return "", false
	}
	_, name, ok := strings.Cut(arn, ":secret:")
	if !ok || len(name) < 8 || name[len(name)-7] != '-' {
		return "", false
	}
	return name[:len(name)-7], true
}

// verifyGraph is verify's matrix as a graph: roles and secrets as nodes,
// the access the spec grants and IAM allows as plain edges, access beyond
// the spec highlighted, access the spec grants that is missing dashed.
func verifyGraph(r *verify.Result) *accessGraph {
	g := newGraphBuilder()
	names := map[string]string{}
	for _, role := range r.Roles {
		names[role.Key] = verifyRoleLabel(role)
		g.node(names[role.Key], "")
	}
	for _, s := range r.Secrets {
		g.node("", s.Name)
	}
	expected := map[[3]string]bool{}
	for _, c := range r.Expected {
		expected[[3]string{c.Role, c.Secret, c.Action}] = true
	}
	allowed := map[[3]string]bool{}
	for _, c := range r.Cells {
		key := [3]string{c.Role, c.Secret, c.Action}
		allowed[key] = c.Allowed
		switch {
		case c.Allowed && expected[key]:
			g.add(names[c.Role], c.Secret, edgeKept, verifyColumn(c.Action))
		case c.Allowed:
			g.add(names[c.Role], c.Secret, edgeAdded, verifyColumn(c.Action))
		}
	}
	for _, c := range r.Expected {
		if !allowed[[3]string{c.Role, c.Secret, c.Action}] {
			role := names[c.Role]
			if role == "" {
				role = c.Role
			}
			g.add(role, c.Secret, edgeRemoved, verifyColumn(c.Action))
		}
	}
	return g.build(func(s edgeState, acts []string) string {
		l := strings.Join(acts, ", ")
		switch s {
		case edgeAdded:
			l += ": beyond the spec"
		case edgeRemoved:
			l += ": missing"
		}
		return l
	})
}

// verifyRoleLabel names a role in the diagram by its IAM name, and a role
// the spec does not name by its path and name.
func verifyRoleLabel(role verify.Role) string {
	if role.Unlisted || role.Name == "" {
		return role.Key
	}
	return role.Name
}

// nodeID is a node's identifier: "r_" for roles, "s_" for secrets, the name
// reduced to letters, digits and underscores, and a hash of the exact name
// so that names differing only in punctuation stay apart. It depends on the
// name alone, so a node keeps its ID from one plan to the next, and it is
// never a Mermaid or DOT keyword.
func nodeID(prefix, name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('_')
	n := 0
	for _, r := range name {
		if n == 40 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		n++
	}
	fmt.Fprintf(&b, "_%08x", h.Sum32())
	return b.String()
}

// mermaidLabel escapes a name for a quoted Mermaid label (internal/escape).
func mermaidLabel(s string) string { return escape.Mermaid(s) }

// Mermaid writes g as a Mermaid flowchart, without the code fence.
func (g *accessGraph) Mermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	b.WriteString("  classDef role fill:#ddf4ff,stroke:#0969da\n")
	b.WriteString("  classDef secret fill:#f6f8fa,stroke:#57606a\n")
	for _, r := range g.Roles {
		fmt.Fprintf(&b, "  %s[\"%s\"]:::role\n", nodeID("r", r), mermaidLabel(r))
	}
	for _, s := range g.Secrets {
		fmt.Fprintf(&b, "  %s[\"%s\"]:::secret\n", nodeID("s", s), mermaidLabel(s))
	}
	var added, removed []string
	for i, e := range g.Edges {
		arrow := "-->"
		switch e.State {
		case edgeAdded:
			arrow = "==>"
			added = append(added, strconv.Itoa(i))
		case edgeRemoved:
			arrow = "-.->"
			removed = append(removed, strconv.Itoa(i))
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", nodeID("r", e.Role), arrow, mermaidLabel(e.Label), nodeID("s", e.Secret))
	}
	if len(added) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:#cf222e,stroke-width:3px\n", strings.Join(added, ","))
	}
	if len(removed) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:#8c959f,stroke-dasharray:5 5\n", strings.Join(removed, ","))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dotString quotes s for DOT (escape.DOT, which the output masker knows).
func dotString(s string) string { return `"` + escape.DOT(s) + `"` }

// DOT writes g for Graphviz, styled as Mermaid styles it.
func (g *accessGraph) DOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph access {\n  rankdir=LR;\n")
	for _, r := range g.Roles {
		fmt.Fprintf(&b, "  %s [label=%s, shape=box, style=filled, fillcolor=\"#ddf4ff\"];\n", nodeID("r", r), dotString(r))
	}
	for _, s := range g.Secrets {
		fmt.Fprintf(&b, "  %s [label=%s, shape=note];\n", nodeID("s", s), dotString(s))
	}
	for _, e := range g.Edges {
		style := ""
		switch e.State {
		case edgeAdded:
			style = `, color="#cf222e", penwidth=3`
		case edgeRemoved:
			style = `, color="#8c959f", style=dashed`
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s%s];\n", nodeID("r", e.Role), nodeID("s", e.Secret), dotString(e.Label), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidBlock is g as a fenced Mermaid diagram for Markdown, or, when
// GitHub would refuse to draw it, a sentence saying so.
func (g *accessGraph) mermaidBlock(instead string) string {
	var b strings.Builder
	_ = g.Mermaid(&b) // a strings.Builder does not fail
	switch {
	case len(g.Edges) > mermaidMaxEdges:
		return fmt.Sprintf("_The diagram has %d arrows, more than Mermaid draws (%d); %s._\n\n", len(g.Edges), mermaidMaxEdges, instead)
	case b.Len() > mermaidMaxText:
		return fmt.Sprintf("_The diagram takes %d characters, more than Mermaid draws (%d); %s._\n\n", b.Len(), mermaidMaxText, instead)
	}
	return "```mermaid\n" + b.String() + "```\n\n"
}

// legend explains the highlighted and dashed arrows that g has.
func (g *accessGraph) legend(added, removed string) string {
	var has [3]bool
	for _, e := range g.Edges {
		has[e.State] = true
	}
	var parts []string
	if has[edgeAdded] {
		parts = append(parts, "thick red arrows are "+added)
	}
	if has[edgeRemoved] {
		parts = append(parts, "dashed grey arrows are "+removed)
	}
	if len(parts) == 0 {
		return ""
	}
	l := strings.Join(parts, "; ")
	return strings.ToUpper(l[:1]) + l[1:] + ".\n\n"
}
