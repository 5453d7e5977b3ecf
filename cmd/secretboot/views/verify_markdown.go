package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/secretboot/secretboot/provision/verify"
)

// VerifyMarkdown writes verify's result for a pull-request comment: the
// verdict and the differences, a diagram of who reads what and the matrix
// as one table (a row per role and secret, a column per action).
func VerifyMarkdown(w io.Writer, r *verify.Result) error {
	var b strings.Builder
	how := "simulated by IAM (SimulatePrincipalPolicy)"
	if r.Mode != verify.Simulated {
		how = "offline, secretboot's documents only"
	}
	fmt.Fprintf(&b, "### secretboot verify · %s\n\nAccess %s.\n\n", mdCode(r.Project+"/"+r.Stage), how)
	if r.OK {
		fmt.Fprintf(&b, "**Verified:** each role can do exactly what the spec grants (%s).\n\n", Plural(len(r.Cells), "decision"))
	} else {
		fmt.Fprintf(&b, "**Not verified: %s from the spec:**\n\n", Plural(len(r.Differences), "difference"))
		for _, d := range r.Differences {
			fmt.Fprintf(&b, "- %s\n", mdText(d.String()))
		}
		b.WriteString("\n")
	}
	g := verifyGraph(r)
	b.WriteString("#### Who reads what\n\n")
	b.WriteString(g.mermaidBlock("`secretboot verify -format dot` draws it with Graphviz"))
	b.WriteString(g.legend("access beyond the spec", "access the spec grants that is missing"))

	expected := map[[3]string]bool{}
	for _, c := range r.Expected {
		expected[[3]string{c.Role, c.Secret, c.Action}] = true
	}
	actual := map[[3]string]verify.Cell{}
	for _, c := range r.Cells {
		actual[[3]string{c.Role, c.Secret, c.Action}] = c
	}
	b.WriteString("#### Matrix\n\n| Role | Secret |")
	for _, a := range r.Actions {
		fmt.Fprintf(&b, " %s |", mdCode(verifyColumn(a)))
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(r.Actions)) + "\n")
	empty := strings.Repeat(" |", len(r.Actions))
	for _, role := range r.Roles {
		name := mdCode(verifyRoleLabel(role))
		switch {
		case role.External:
			name += " (external)"
		case role.Unlisted:
			name += " (not in the spec)"
		}
		if r.Mode == verify.Simulated && !role.Exists {
			fmt.Fprintf(&b, "| %s | not verified: the role does not exist |%s\n", name, empty)
			continue
		}
		for _, s := range r.Secrets {
			secret := mdCode(s.Name)
			if r.Mode == verify.Simulated && !s.Exists {
				secret += " (does not exist yet)"
			}
			fmt.Fprintf(&b, "| %s | %s |", name, secret)
			for _, a := range r.Actions {
				key := [3]string{role.Key, s.Name, a}
				cell, ok := actual[key]
				mark := "-"
				switch {
				case a == verify.KMSDecrypt && s.KMSKeyARN == "":
					mark = ""
				case !ok:
				case cell.Allowed != expected[key]:
					mark = "**" + symbol(cell.Allowed) + " !**"
				default:
					mark = symbol(cell.Allowed)
				}
				fmt.Fprintf(&b, " %s |", mark)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n✓ allowed · ✗ denied · **!** differs from the spec · - not checked (does not exist)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// VerifyDOT writes the diagram of VerifyMarkdown for Graphviz.
func VerifyDOT(w io.Writer, r *verify.Result) error {
	return verifyGraph(r).DOT(w)
}
