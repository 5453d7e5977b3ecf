package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/secretboot/secretboot/provision"
)

// CommentLimit is GitHub's limit on a comment's length, in characters.
// Markdown measures in bytes, never fewer than characters, so its output
// fits however GitHub counts.
const CommentLimit = 65536

// noteNameRunes shortens the names in the note that says what was cut.
const noteNameRunes = 100

// Markdown writes the plan for a pull-request comment within CommentLimit.
func Markdown(w io.Writer, p *provision.Plan) error {
	return MarkdownWithin(w, p, CommentLimit)
}

// MarkdownWithin writes the plan for a pull-request comment of at most
// limit bytes: the header and summary first, every grant that broadens
// access, a diagram of the access the plan changes, the table of changes
// and, folded, the grant changes per role and the new policy documents.
//
// When the whole does not fit, each part in the order table, diagram,
// grant lists, documents keeps as many of its entries as fit in what is
// left, and a note after the summary says what was left out and where to
// read it. The broadening grants are never cut: when they alone exceed the
// limit, the note says so and the output is longer than limit.
func MarkdownWithin(w io.Writer, p *provision.Plan, limit int) error {
	m := newPlanMarkdown(p)
	out := m.assemble(len(m.rows), true, len(m.grants), len(m.docs), "")
	if len(out) > limit {
		out = m.cut(limit)
	}
	_, err := io.WriteString(w, out)
	return err
}

// planMarkdown is the plan's Markdown in parts, so that it can be cut.
type planMarkdown struct {
	head    string // title, header, warnings, summary
	broad   string // the broadening grants: never cut
	nBroad  int
	diagram string
	rows    []string // the changes table, a row per change
	names   []string // the change each row is about, for the cut note
	grants  []string // a block per policy change with grant changes
	grantOf []string
	docs    []string // a folded block per policy document
	docOf   []string
	empty   bool
}

func newPlanMarkdown(p *provision.Plan) *planMarkdown {
	m := &planMarkdown{}
	var b strings.Builder
	h := p.Header
	title := "secretboot plan"
	if p.Destroy {
		title = "secretboot destroy plan"
	}
	fmt.Fprintf(&b, "### %s · %s\n\n", title, mdCode(h.Project+"/"+h.Stage))
	fmt.Fprintf(&b, "Account %s · region %s · caller %s", mdCode(h.Account), mdCode(h.Region), mdCode(shortCaller(h.CallerARN)))
	if h.CredentialSource != "" {
		fmt.Fprintf(&b, " · credentials from %s", mdCode(h.CredentialSource))
	}
	b.WriteString("\n\n")
	for _, warn := range h.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", mdText(warn))
	}
	if p.PayloadsNotCompared {
		fmt.Fprintf(&b, "> **Note:** %s\n\n", mdText(NoPayloadsNote))
	}
	if p.Empty() {
		b.WriteString("**No changes.** The stage matches the spec.\n")
		m.head, m.empty = b.String(), true
		return m
	}
	b.WriteString("**" + summaryLine(p) + "**\n\n")
	m.head = b.String()

	m.broad, m.nBroad = broadeningList(p)
	if g := planGraph(p); len(g.Edges) > 0 {
		m.diagram = "#### Who reads what: the access this plan changes\n\n" +
			g.mermaidBlock("the grant changes are listed below") +
			g.legend("grants the plan adds", "grants it removes")
	}
	for _, c := range p.Changes {
		m.rows = append(m.rows, fmt.Sprintf("| %s | %s %s | %s |\n", mdAction(c.Action), kindLabel(c.Kind), mdCode(c.Name), mdText(details(c))))
		m.names = append(m.names, kindLabel(c.Kind)+" "+c.Name)
	}
	for _, c := range p.Changes {
		if c.Policy == nil || len(c.Policy.Grants) == 0 {
			continue
		}
		var g strings.Builder
		fmt.Fprintf(&g, "**%s**\n\n", mdText(c.Name))
		for _, gr := range c.Policy.Grants {
			g.WriteString("- " + grantLine(p.Header.Region, gr))
			if gr.Broadens {
				g.WriteString(" — **broadens access**")
			}
			g.WriteString("\n")
		}
		g.WriteString("\n")
		m.grants = append(m.grants, g.String())
		m.grantOf = append(m.grantOf, c.Name)
	}
	for _, c := range p.Changes {
		if c.Policy == nil || c.Policy.Document == "" {
			continue
		}
		fence := codeFence(c.Policy.Document)
		doc := fmt.Sprintf("<details><summary>Policy document <code>%s</code></summary>\n\n%sjson\n%s\n%s\n",
			htmlText(c.Name), fence, strings.TrimSuffix(c.Policy.Document, "\n"), fence)
		if len(c.Policy.Pending) > 0 {
			pending := make([]string, len(c.Policy.Pending))
			for i, s := range c.Policy.Pending {
				pending[i] = mdCode(s)
			}
			doc += fmt.Sprintf("\n`-??????` stands for the suffix AWS assigns; apply writes the exact ARN of %s.\n", strings.Join(pending, ", "))
		}
		m.docs = append(m.docs, doc+"\n</details>\n\n")
		m.docOf = append(m.docOf, c.Name)
	}
	for _, c := range p.Changes {
		if c.Resource == nil || c.Resource.Document == "" {
			continue
		}
		fence := codeFence(c.Resource.Document)
		m.docs = append(m.docs, fmt.Sprintf("<details><summary>Resource policy <code>%s</code></summary>\n\n%sjson\n%s\n%s\n\n</details>\n\n",
			htmlText(c.Name), fence, strings.TrimSuffix(c.Resource.Document, "\n"), fence))
		m.docOf = append(m.docOf, c.Name)
	}
	return m
}

// grantLine is one grant change: op, action, resource and condition.
func grantLine(region string, g provision.GrantChange) string {
	line := fmt.Sprintf("%s %s on %s", mdText(g.Op), mdCode(g.Action), mdCode(ShortResourceIn(region, g.Resource)))
	if g.Condition != "" {
		line += " when " + mdCode(g.Condition)
	}
	return line
}

// broadeningList lists every grant that broadens access, by role, unfolded:
// it is what a reviewer must see.
func broadeningList(p *provision.Plan) (string, int) {
	var b strings.Builder
	n := 0
	for _, c := range p.Changes {
		if c.Policy == nil {
			continue
		}
		for _, g := range c.Policy.Grants {
			if g.Broadens {
				fmt.Fprintf(&b, "- %s: %s\n", mdCode(c.Policy.Role), grantLine(p.Header.Region, g))
				n++
			}
		}
	}
	if n == 0 {
		return "", 0
	}
	return fmt.Sprintf("#### Grants that broaden access (%d)\n\n", n) + b.String() + "\n", n
}

// assemble joins the head, the note, the broadening grants and the first
// rows, grant blocks and documents; the diagram when withDiagram.
func (m *planMarkdown) assemble(rows int, withDiagram bool, grants, docs int, note string) string {
	if m.empty {
		return m.head
	}
	var b strings.Builder
	b.WriteString(m.head)
	b.WriteString(note)
	b.WriteString(m.broad)
	if withDiagram {
		b.WriteString(m.diagram)
	}
	if rows > 0 {
		b.WriteString(tableHead)
		for _, r := range m.rows[:rows] {
			b.WriteString(r)
		}
		b.WriteString("\n")
	}
	if grants > 0 {
		b.WriteString(grantsOpen)
		for _, g := range m.grants[:grants] {
			b.WriteString(g)
		}
		b.WriteString(grantsClose)
	}
	for _, d := range m.docs[:docs] {
		b.WriteString(d)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

const (
	tableHead   = "| | Resource | Details |\n|---|---|---|\n"
	grantsOpen  = "<details><summary>Grant changes per role</summary>\n\n"
	grantsClose = "</details>\n\n"
)

// cut keeps what fits in limit: see MarkdownWithin.
func (m *planMarkdown) cut(limit int) string {
	// The note is kept room for at its longest: everything cut, named by
	// the longest names.
	worst := m.note(limit, true, 0, false, 0, 0, true)
	room := &budget{left: limit - len(m.head) - len(m.broad) - len(worst)}
	overflow := room.left < 0
	rows := room.take(m.rows, len(tableHead)+1)
	diagram := m.diagram != "" && room.whole(m.diagram)
	grants := room.take(m.grants, len(grantsOpen)+len(grantsClose))
	docs := room.take(m.docs, 0)
	return m.assemble(rows, diagram, grants, docs, m.note(limit, overflow, rows, diagram, grants, docs, false))
}

// note says what was cut, given what was kept; with longest, it names the
// longest names instead, for the room it may take.
func (m *planMarkdown) note(limit int, overflow bool, rows int, diagram bool, grants, docs int, longest bool) string {
	name := func(names []string, i int) string {
		if longest {
			for j, n := range names {
				if len(noteName(n)) > len(noteName(names[i])) {
					i = j
				}
			}
		}
		return noteName(names[i])
	}
	var cut []string
	if rows < len(m.rows) {
		cut = append(cut, fmt.Sprintf("%d of %s in the table (from %s on)", len(m.rows)-rows, Plural(len(m.rows), "change"), name(m.names, rows)))
	}
	if m.diagram != "" && !diagram {
		cut = append(cut, "the diagram")
	}
	if grants < len(m.grants) {
		cut = append(cut, fmt.Sprintf("the grant changes of %d of %s (from %s on)", len(m.grants)-grants, Plural(len(m.grants), "policy"), name(m.grantOf, grants)))
	}
	if docs < len(m.docs) {
		cut = append(cut, fmt.Sprintf("%d of %s (from %s on)", len(m.docs)-docs, Plural(len(m.docs), "policy document"), name(m.docOf, docs)))
	}
	var b strings.Builder
	if overflow {
		what := "The header alone exceeds"
		if m.nBroad > 0 {
			what = fmt.Sprintf("The %s broadening access alone exceed", Plural(m.nBroad, "grant"))
		}
		fmt.Fprintf(&b, "> **%s the comment limit of %d characters** (%d characters with the header). "+
			"Every grant that broadens access is listed below, since a reviewer must see each, and nothing else is; GitHub may refuse this comment.\n>\n",
			what, limit, len(m.head)+len(m.broad))
	}
	fmt.Fprintf(&b, "> **Cut to fit the comment limit of %d characters.** Left out: %s.", limit, strings.Join(cut, "; "))
	if m.nBroad > 0 {
		b.WriteString(" Every grant that broadens access is listed.")
	}
	b.WriteString(" The whole plan is in `secretboot plan -json`, and in the file `plan -out FILE` saves (JSON).\n\n")
	return b.String()
}

// budget hands out the room left in a comment, part by part.
type budget struct{ left int }

// take keeps the longest prefix of parts that fits, with the wrapper
// around them (a table head, <details>) counted once if any part is kept.
func (b *budget) take(parts []string, wrapper int) int {
	used, n := wrapper, 0
	for _, s := range parts {
		if used+len(s) > b.left {
			break
		}
		used += len(s)
		n++
	}
	if n > 0 {
		b.left -= used
	}
	return n
}

// whole keeps s if it fits.
func (b *budget) whole(s string) bool {
	if len(s) > b.left {
		return false
	}
	b.left -= len(s)
	return true
}

// noteName is a change's name in the cut note, shortened so that the note
// fits in cutNoteRoom whatever the names.
func noteName(s string) string {
	if r := []rune(s); len(r) > noteNameRunes {
		s = string(r[:noteNameRunes]) + "…"
	}
	return mdCode(s)
}

func mdAction(a provision.Action) string {
	switch a {
	case provision.ActionCreate:
		return "➕ create"
	case provision.ActionRestore:
		return "↺ restore"
	case provision.ActionDelete:
		return "➖ delete"
	}
	return "✏️ update"
}

func kindLabel(k provision.Kind) string {
	return strings.ReplaceAll(string(k), "_", " ")
}

func details(c provision.Change) string {
	var parts []string
	switch {
	case c.Secret != nil && c.Action == provision.ActionDelete:
		parts = append(parts, fmt.Sprintf("scheduled deletion, %d-day recovery window", c.Secret.RecoveryDays))
	case c.Secret != nil:
		if c.Secret.Payload != nil {
			parts = append(parts, "payload "+PayloadSummary(c.Secret.Payload))
		}
		if c.Secret.Description != nil {
			parts = append(parts, "description "+valueChange(c.Secret.Description))
		}
		if c.Secret.KMSKey != nil {
			parts = append(parts, "KMS key "+valueChange(c.Secret.KMSKey))
		}
		if c.Secret.Rotation != nil {
			parts = append(parts, "rotation "+RotationSummary(c.Secret.Rotation))
		}
		for _, tc := range c.Secret.Tags {
			parts = append(parts, "tag "+tagChange(tc))
		}
		if len(c.Secret.Readers) > 0 && c.Action == provision.ActionCreate {
			parts = append(parts, "readers "+strings.Join(c.Secret.Readers, ", "))
		}
	case c.Role != nil && c.Action != provision.ActionDelete:
		if c.Action == provision.ActionCreate {
			parts = append(parts, "trust "+strings.Join(c.Role.Services, ", "))
		}
		if c.Role.Description != nil {
			parts = append(parts, "description "+valueChange(c.Role.Description))
		}
		if c.Role.Trust != nil && c.Action != provision.ActionCreate {
			parts = append(parts, "trust "+TrustSummary(c.Role))
		}
		if c.Role.Boundary != nil {
			parts = append(parts, "permissions boundary "+valueChange(c.Role.Boundary))
		}
		for _, arn := range c.Role.Detach {
			parts = append(parts, "detach "+arn)
		}
		for _, pn := range c.Role.DeleteInline {
			parts = append(parts, "delete inline policy "+pn)
		}
		for _, tc := range c.Role.Tags {
			parts = append(parts, "tag "+tagChange(tc))
		}
	case c.Policy != nil:
		broad := 0
		for _, g := range c.Policy.Grants {
			if g.Broadens {
				broad++
			}
		}
		if n := len(c.Policy.Grants); n > 0 {
			parts = append(parts, Plural(n, "grant change")+broadenCount(broad))
		}
		if line := LayoutSummary(c.Policy); line != "" {
			parts = append(parts, line)
		}
		if line := RecordSummary(c.Policy); line != "" {
			parts = append(parts, line)
		}
	case c.Resource != nil:
		parts = resourcePolicyDetails(c)
	case c.Replication != nil:
		for _, a := range replicationAttrs(c) {
			parts = append(parts, a[0]+" "+a[1])
		}
	case c.Profile != nil:
		if c.Profile.RemoveRole != "" {
			parts = append(parts, "remove role "+c.Profile.RemoveRole)
		}
		if c.Profile.AddRole != "" {
			parts = append(parts, "role "+c.Profile.AddRole)
		}
	}
	return strings.Join(parts, "; ")
}

// broadenCount is ", 1 broadens access" or ", N broaden access"; "" for none.
func broadenCount(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", 1 broadens access"
	}
	return fmt.Sprintf(", %d broaden access", n)
}
