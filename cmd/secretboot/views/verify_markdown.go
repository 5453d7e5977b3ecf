package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/secretboot/secretboot/provision/verify"
)

// VerifyMarkdown writes verify's result for a pull-request comment within
// CommentLimit.
func VerifyMarkdown(w io.Writer, r *verify.Result) error {
	return VerifyMarkdownWithin(w, r, CommentLimit)
}

// VerifyMarkdownWithin writes verify's result for a pull-request comment
// of at most limit bytes: the verdict and the differences, a diagram of who
// reads what and the matrix as one table (a row per role and secret, a
// column per action), leaving out the pairs where every action is denied
// as the spec says. When the whole does not fit, the differences, the table
// and the diagram, in that order, keep what fits, and a note after the
// verdict says what was left out; the heading and verdict are never cut.
func VerifyMarkdownWithin(w io.Writer, r *verify.Result, limit int) error {
	m := newVerifyMarkdown(r)
	out := m.assemble(len(m.diffs), len(m.rows), true, "")
	if len(out) > limit {
		worst := m.note(limit, 0, 0, false, true)
		room := &budget{left: limit - len(m.head) - len(m.tail) - len(worst)}
		diffs := room.take(m.diffs, 1)
		rows := room.take(m.rows, len(m.tableHead)+len(m.hidden)+1)
		diagram := room.whole(m.diagram)
		out = m.assemble(diffs, rows, diagram, m.note(limit, diffs, rows, diagram, false))
	}
	_, err := io.WriteString(w, out)
	return err
}

// verifyMarkdown is verify's Markdown in parts, so that it can be cut.
type verifyMarkdown struct {
	head      string   // title and verdict
	diffs     []string // a line per difference
	diagram   string
	tableHead string
	rows      []string
	rowOf     []string // the role and secret of each row, for the note
	hidden    string   // the sentence counting the rows left out as all denied
	tail      string   // the table's legend
}

func newVerifyMarkdown(r *verify.Result) *verifyMarkdown {
	m := &verifyMarkdown{}
	how := "simulated by IAM (SimulatePrincipalPolicy)"
	if r.Mode != verify.Simulated {
		how = "offline, secretboot's documents only"
	}
	head := fmt.Sprintf("### secretboot verify · %s\n\nAccess %s.\n\n", mdCode(r.Project+"/"+r.Stage), how)
	if r.OK {
		head += fmt.Sprintf("**Verified:** each role can do exactly what the spec grants (%s).\n\n", Plural(len(r.Cells), "decision"))
	} else {
		head += fmt.Sprintf("**Not verified: %s from the spec:**\n\n", Plural(len(r.Differences), "difference"))
		for _, d := range r.Differences {
			m.diffs = append(m.diffs, "- "+mdText(d.String())+"\n")
		}
	}
	for _, d := range r.CrossAccount {
		head += "- " + mdText(d.String()) + "\n"
	}
	if len(r.CrossAccount) > 0 {
		head += "\n"
	}
	m.head = head

	g := verifyGraph(r)
	m.diagram = "#### Who reads what\n\n" +
		g.mermaidBlock("`secretboot verify -format dot` draws it with Graphviz") +
		g.legend("access beyond the spec", "access the spec grants that is missing")

	expected := map[[3]string]bool{}
	for _, c := range r.Expected {
		expected[[3]string{c.Role, c.Secret, c.Action}] = true
	}
	actual := map[[3]string]verify.Cell{}
	for _, c := range r.Cells {
		actual[[3]string{c.Role, c.Secret, c.Action}] = c
	}
	var th strings.Builder
	th.WriteString("#### Matrix\n\n| Role | Secret |")
	for _, a := range r.Actions {
		fmt.Fprintf(&th, " %s |", mdCode(verifyColumn(a)))
	}
	th.WriteString("\n|---|---|" + strings.Repeat("---|", len(r.Actions)) + "\n")
	m.tableHead = th.String()
	empty := strings.Repeat(" |", len(r.Actions))
	hidden := 0
	for _, role := range r.Roles {
		label := verifyRoleLabel(role)
		name := mdCode(label)
		switch {
		case role.External:
			name += " (external)"
		case role.Unlisted:
			name += " (not in the spec)"
		}
		if r.Mode == verify.Simulated && !role.Exists {
			m.rows = append(m.rows, fmt.Sprintf("| %s | not verified: the role does not exist |%s\n", name, empty))
			m.rowOf = append(m.rowOf, label)
			continue
		}
		for _, s := range r.Secrets {
			secret := mdCode(s.Name)
			if r.Mode == verify.Simulated && !s.Exists {
				secret += " (does not exist yet)"
			}
			row := fmt.Sprintf("| %s | %s |", name, secret)
			// A row where every action is denied, as the spec says, tells
			// nothing; there are roles × secrets of them.
			quiet := true
			for _, a := range r.Actions {
				key := [3]string{role.Key, s.Name, a}
				cell, ok := actual[key]
				mark := "-"
				switch {
				case a == verify.KMSDecrypt && s.KMSKeyARN == "":
					mark = ""
				case !ok:
					quiet = false
				case cell.Allowed != expected[key]:
					mark = "**" + symbol(cell.Allowed) + " !**"
					quiet = false
				default:
					mark = symbol(cell.Allowed)
					quiet = quiet && !cell.Allowed
				}
				row += " " + mark + " |"
			}
			if quiet {
				hidden++
				continue
			}
			m.rows = append(m.rows, row+"\n")
			m.rowOf = append(m.rowOf, label+" × "+s.Name)
		}
	}
	if hidden > 0 {
		m.hidden = fmt.Sprintf("\nNot shown: %s where every action is denied, as the spec says.\n", Plural(hidden, "role and secret pair"))
	}
	m.tail = "\n✓ allowed · ✗ denied · **!** differs from the spec · - not checked (does not exist)\n"
	return m
}

// assemble joins the head, the note and the first diffs and rows; the
// diagram when withDiagram.
func (m *verifyMarkdown) assemble(diffs, rows int, withDiagram bool, note string) string {
	var b strings.Builder
	b.WriteString(m.head)
	b.WriteString(note)
	if diffs > 0 {
		for _, d := range m.diffs[:diffs] {
			b.WriteString(d)
		}
		b.WriteString("\n")
	}
	if withDiagram {
		b.WriteString(m.diagram)
	}
	if rows > 0 {
		b.WriteString(m.tableHead)
		for _, r := range m.rows[:rows] {
			b.WriteString(r)
		}
		b.WriteString(m.hidden)
		b.WriteString(m.tail)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// note says what was cut, given what was kept; with longest, it names the
// longest names instead, for the room it may take.
func (m *verifyMarkdown) note(limit, diffs, rows int, diagram, longest bool) string {
	name := func(i int) string {
		if longest {
			for j, n := range m.rowOf {
				if len(noteName(n)) > len(noteName(m.rowOf[i])) {
					i = j
				}
			}
		}
		return noteName(m.rowOf[i])
	}
	var cut []string
	if diffs < len(m.diffs) {
		cut = append(cut, fmt.Sprintf("%d of %s (the last ones)", len(m.diffs)-diffs, Plural(len(m.diffs), "difference")))
	}
	if rows < len(m.rows) {
		cut = append(cut, fmt.Sprintf("%d of %s of the matrix (from %s on)", len(m.rows)-rows, Plural(len(m.rows), "row"), name(rows)))
	}
	if !diagram {
		cut = append(cut, "the diagram")
	}
	if len(cut) == 0 {
		return ""
	}
	return fmt.Sprintf("> **Cut to fit the comment limit of %d characters.** Left out: %s. "+
		"The whole result is in `secretboot verify -json`.\n\n", limit, strings.Join(cut, "; "))
}

// VerifyDOT writes the diagram of VerifyMarkdown for Graphviz.
func VerifyDOT(w io.Writer, r *verify.Result) error {
	return verifyGraph(r).DOT(w)
}
