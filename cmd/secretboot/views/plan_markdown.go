package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/secretboot/secretboot/provision"
)

// Markdown writes the plan for a pull-request comment: a header, a table of
// changes, the grant changes per role and, folded, the new policy documents.
func Markdown(w io.Writer, p *provision.Plan) error {
	var b strings.Builder
	h := p.Header
	title := "secretboot plan"
	if p.Destroy {
		title = "secretboot destroy plan"
	}
	fmt.Fprintf(&b, "### %s · `%s/%s`\n\n", title, h.Project, h.Stage)
	fmt.Fprintf(&b, "Account `%s` · region `%s` · caller `%s`", h.Account, h.Region, shortCaller(h.CallerARN))
	if h.CredentialSource != "" {
		fmt.Fprintf(&b, " · credentials from `%s`", h.CredentialSource)
	}
	b.WriteString("\n\n")
	for _, warn := range h.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n\n", mdEscape(warn))
	}
	if p.PayloadsNotCompared {
		fmt.Fprintf(&b, "> **Note:** %s\n\n", mdEscape(NoPayloadsNote))
	}
	if p.Empty() {
		b.WriteString("**No changes.** The stage matches the spec.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| | Resource | Details |\n|---|---|---|\n")
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "| %s | %s `%s` | %s |\n", mdAction(c.Action), kindLabel(c.Kind), c.Name, mdEscape(details(c)))
	}
	b.WriteString("\n")
	var grants strings.Builder
	for _, c := range p.Changes {
		if c.Policy == nil || len(c.Policy.Grants) == 0 {
			continue
		}
		fmt.Fprintf(&grants, "**%s**\n\n", c.Name)
		for _, g := range c.Policy.Grants {
			line := fmt.Sprintf("- %s `%s` on `%s`", g.Op, g.Action, ShortResource(g.Resource))
			if g.Condition != "" {
				line += fmt.Sprintf(" when `%s`", g.Condition)
			}
			if g.Broadens {
				line += " — **broadens access**"
			}
			grants.WriteString(line + "\n")
		}
		grants.WriteString("\n")
	}
	if grants.Len() > 0 {
		b.WriteString("#### Grant changes\n\n" + grants.String())
	}
	for _, c := range p.Changes {
		if c.Policy == nil || c.Policy.Document == "" {
			continue
		}
		fmt.Fprintf(&b, "<details><summary>Policy document <code>%s</code></summary>\n\n```json\n%s```\n", c.Name, c.Policy.Document)
		if len(c.Policy.Pending) > 0 {
			fmt.Fprintf(&b, "\n`-??????` stands for the suffix AWS assigns; apply writes the exact ARN of %s.\n", strings.Join(c.Policy.Pending, ", "))
		}
		b.WriteString("\n</details>\n\n")
	}
	b.WriteString(resourcePolicyDocuments(p))
	b.WriteString("**" + summaryLine(p) + "**\n")
	_, err := io.WriteString(w, b.String())
	return err
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

// mdEscape keeps table cells intact.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
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
