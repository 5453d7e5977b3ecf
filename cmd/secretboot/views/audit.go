package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/secretboot/secretboot/provision/audit"
)

// accessBySecret groups r's readers by secret name.
func accessBySecret(r *audit.Result) map[string][]audit.Access {
	out := map[string][]audit.Access{}
	for _, a := range r.Access {
		out[a.Secret] = append(out[a.Secret], a)
	}
	return out
}

// readersOf names the spec's readers of s by the name at the end of
// their ARNs.
func readersOf(s audit.Secret) string {
	if len(s.Readers) == 0 {
		return "none"
	}
	names := make([]string, 0, len(s.Readers))
	for _, arn := range s.Readers {
		names = append(names, "role "+arn[strings.LastIndexByte(arn, '/')+1:])
	}
	return strings.Join(names, ", ")
}

func auditHeading(r *audit.Result) string {
	return fmt.Sprintf("secretboot audit · %s/%s · account %s · who may %s", r.Project, r.Stage, r.Account, r.Action)
}

func auditCounts(r *audit.Result) string {
	return fmt.Sprintf("read %s, %s, %s and %s", Plural(r.Roles, "role"), Plural(r.Users, "user"), Plural(r.Groups, "group"), Plural(r.Policies, "managed policy"))
}

// Audit prints, per secret, each principal that may read it (✓ a
// reader the spec names, ✗ one it does not, ? one whose read depends on
// conditions), then the findings and what audit does not see.
func Audit(w io.Writer, r *audit.Result, c Colors) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", auditHeading(r), auditCounts(r))
	bySecret := accessBySecret(r)
	width := 0
	for _, a := range r.Access {
		width = max(width, len(a.Type)+1+len(a.Name))
	}
	for _, s := range r.Secrets {
		fmt.Fprintf(&b, "\nsecret %s", s.Name)
		switch {
		case !s.Exists:
			b.WriteString(" (does not exist yet: nothing to read)\n")
			continue
		case s.ResourcePolicy:
			b.WriteString(" (has a resource policy)")
		}
		fmt.Fprintf(&b, "\n  spec readers: %s\n", readersOf(s))
		for _, a := range bySecret[s.Name] {
			mark := c.Good("✓")
			switch {
			case a.Conditional && !a.Expected:
				mark = c.Bad("?")
			case !a.Expected:
				mark = c.Bad("✗")
			}
			via := strings.Join(a.Sources, ", ")
			if a.Conditional {
				via += " (when its conditions hold)"
			}
			fmt.Fprintf(&b, "  %s %-*s  %s\n", mark, width, a.Type+" "+a.Name, via)
		}
	}
	b.WriteString("\n")
	if r.OK {
		fmt.Fprintf(&b, "%s nobody beyond the spec can read the stage's secrets.\n", c.Good("Audited:"))
	} else {
		fmt.Fprintf(&b, "%s %s beyond the spec:\n", c.Bad("Exposed:"), Plural(len(r.Findings), "finding"))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  %s: %s\n", f.Kind, f)
		}
	}
	b.WriteString("\nNot seen by audit:\n")
	for _, n := range r.NotSeen {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// AuditMarkdown prints the same as a table per stage, for a pull
// request comment.
func AuditMarkdown(w io.Writer, r *audit.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n%s.\n\n", mdText(auditHeading(r)), auditCounts(r))
	b.WriteString("| Secret | Principal | Via | Spec |\n|---|---|---|---|\n")
	bySecret := accessBySecret(r)
	for _, s := range r.Secrets {
		if !s.Exists {
			fmt.Fprintf(&b, "| %s | — | does not exist yet | |\n", mdCode(s.Name))
			continue
		}
		for _, a := range bySecret[s.Name] {
			spec := "✓ reader"
			switch {
			case a.Conditional && !a.Expected:
				spec = "**? beyond the spec, conditional**"
			case !a.Expected:
				spec = "**✗ beyond the spec**"
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s | %s |\n", mdCode(s.Name), mdText(string(a.Type)), mdCode(a.Name), mdText(strings.Join(a.Sources, ", ")), spec)
		}
	}
	b.WriteString("\n")
	if r.OK {
		b.WriteString("**Audited:** nobody beyond the spec can read the stage's secrets.\n")
	} else {
		fmt.Fprintf(&b, "**Exposed: %s beyond the spec:**\n\n", Plural(len(r.Findings), "finding"))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s: %s\n", mdText(string(f.Kind)), mdText(f.String()))
		}
	}
	b.WriteString("\n<details><summary>Not seen by audit</summary>\n\n")
	for _, n := range r.NotSeen {
		fmt.Fprintf(&b, "- %s\n", mdText(n))
	}
	b.WriteString("\n</details>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
