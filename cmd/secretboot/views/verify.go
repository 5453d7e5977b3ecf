package views

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/secretboot/secretboot/provision/verify"
)

// verifyColumn is an action's column heading: Secrets Manager actions by
// name alone, the KMS one with its service, which is not the secret's.
func verifyColumn(action string) string {
	return strings.TrimPrefix(action, "secretsmanager:")
}

// Verify prints one table per role: a row per secret, a column per
// action of r.Actions, ✓ for allowed and ✗ for denied, with "!" after a
// cell that differs from the spec; then the differences, one per line. The
// kms:Decrypt column, shown only when some secret has a customer managed
// key, is blank for the secrets without one.
func Verify(w io.Writer, r *verify.Result, c Colors) error {
	var b strings.Builder
	// Offline, nothing need exist: pending secrets are evaluated at their
	// "<name>-??????" pattern.
	online := r.Mode == verify.Simulated
	how := "simulated by IAM (SimulatePrincipalPolicy)"
	if !online {
		how = "offline, secretboot's documents only"
	}
	fmt.Fprintf(&b, "secretboot verify · %s/%s · %s\n", r.Project, r.Stage, how)

	expected := map[[3]string]bool{}
	for _, cell := range r.Expected {
		expected[[3]string{cell.Role, cell.Secret, cell.Action}] = true
	}
	actual := map[[3]string]verify.Cell{}
	for _, cell := range r.Cells {
		actual[[3]string{cell.Role, cell.Secret, cell.Action}] = cell
	}
	width := len("secret")
	for _, s := range r.Secrets {
		width = max(width, utf8.RuneCountInString(s.Name))
	}
	for _, role := range r.Roles {
		name := role.Name
		switch {
		case role.External:
			name = "external " + role.ARN
		case role.Unlisted:
			name = "not in the spec: " + role.ARN
		}
		fmt.Fprintf(&b, "\nrole %s (%s)\n", role.Key, name)
		if online && !role.Exists {
			fmt.Fprintf(&b, "  not verified: the role does not exist\n")
			continue
		}
		fmt.Fprintf(&b, "  %-*s", width, "secret")
		for _, a := range r.Actions {
			fmt.Fprintf(&b, "  %s", verifyColumn(a))
		}
		b.WriteString("\n")
		for _, s := range r.Secrets {
			fmt.Fprintf(&b, "  %-*s", width, s.Name)
			for _, a := range r.Actions {
				key := [3]string{role.Key, s.Name, a}
				cell, ok := actual[key]
				mark := "-"
				switch {
				case a == verify.KMSDecrypt && s.KMSKeyARN == "":
					mark = ""
				case !ok:
				case cell.Allowed != expected[key]:
					mark = c.Bad(symbol(cell.Allowed) + "!")
				case cell.Allowed:
					mark = c.Good(symbol(true))
				default:
					mark = symbol(false)
				}
				pad := len(verifyColumn(a)) - visibleLen(mark)
				fmt.Fprintf(&b, "  %s%s", mark, strings.Repeat(" ", pad))
			}
			if online && !s.Exists {
				b.WriteString("  (does not exist yet)")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	if r.OK {
		fmt.Fprintf(&b, "%s each role can do exactly what the spec grants (%s).\n",
			c.Good("Verified:"), Plural(len(r.Cells), "decision"))
	} else {
		fmt.Fprintf(&b, "%s %s from the spec:\n", c.Bad("Not verified:"), Plural(len(r.Differences), "difference"))
		for _, d := range r.Differences {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	for _, d := range r.CrossAccount {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	// Padding leaves trailing blanks on rows; terminals and diffs do not
	// need them.
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func symbol(allowed bool) string {
	if allowed {
		return "✓"
	}
	return "✗"
}

// visibleLen counts the characters a terminal shows, skipping ANSI
// colour sequences.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}
