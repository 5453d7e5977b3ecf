package views

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/secretboot/secretboot/provision"
)

type textWriter struct {
	w      io.Writer
	c      Colors
	err    error
	region string // the plan's: a secret ARN elsewhere is a replica's
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// Text writes the plan as people read it at a terminal.
func Text(w io.Writer, p *provision.Plan, colors Colors) error {
	t := &textWriter{w: w, c: colors, region: p.Header.Region}
	verb := "plan"
	if p.Destroy {
		verb = "destroy plan"
	}
	h := p.Header
	t.printf("secretboot %s · %s/%s · account %s · %s · caller %s\n", verb, h.Project, h.Stage, h.Account, h.Region, shortCaller(h.CallerARN))
	if h.CredentialSource != "" {
		t.printf("  credentials from %s\n", h.CredentialSource)
	}
	for _, warn := range h.Warnings {
		t.printf("  %s %s\n", t.c.Caution("warning:"), warn)
	}
	if p.PayloadsNotCompared {
		t.printf("  %s %s\n", t.c.Caution("note:"), NoPayloadsNote)
	}
	t.printf("\n")
	if p.Empty() {
		t.printf("No changes. The stage matches the spec.\n")
		return t.err
	}
	for _, c := range p.Changes {
		t.change(c)
	}
	t.printf("\n%s\n", summaryLine(p))
	return t.err
}

func (t *textWriter) symbol(a provision.Action) string {
	switch a {
	case provision.ActionCreate:
		return t.c.Good("+")
	case provision.ActionRestore:
		return t.c.Restored("↺")
	case provision.ActionDelete:
		return t.c.Bad("-")
	}
	return t.c.Caution("~")
}

func (t *textWriter) change(c provision.Change) {
	switch c.Kind {
	case provision.KindStageKey:
		t.printf("  %s stage key %s%s\n", t.symbol(c.Action), c.Name, actionNote(c))
	case provision.KindSecret:
		t.printf("  %s secret %s%s\n", t.symbol(c.Action), c.Name, actionNote(c))
		t.secret(c)
	case provision.KindRole:
		t.printf("  %s role %s%s\n", t.symbol(c.Action), c.Name, actionNote(c))
		t.role(c)
	case provision.KindRolePolicy:
		t.printf("  %s policy %s%s\n", t.symbol(c.Action), c.Name, actionNote(c))
		t.policy(c)
	case provision.KindReplication:
		t.printf("  %s replication %s\n", t.symbol(c.Action), c.Name)
		for _, a := range replicationAttrs(c) {
			t.attr(a[0], a[1])
		}
	case provision.KindResourcePolicy:
		t.printf("  %s resource policy %s\n", t.symbol(c.Action), c.Name)
		for _, a := range resourcePolicyAttrs(c) {
			t.attr(a[0], a[1])
		}
	case provision.KindInstanceProfile:
		t.printf("  %s instance profile %s%s\n", t.symbol(c.Action), c.Name, actionNote(c))
		if pc := c.Profile; pc != nil {
			if pc.RemoveRole != "" {
				t.attr("remove", "role "+pc.RemoveRole)
			}
			if pc.AddRole != "" {
				t.attr("role", pc.AddRole)
			}
		}
	}
}

func actionNote(c provision.Change) string {
	switch {
	case c.Action == provision.ActionRestore:
		return "   (restore: scheduled for deletion)"
	case c.Action == provision.ActionDelete && c.Secret != nil:
		return fmt.Sprintf("   (schedule deletion, %d-day recovery window)", c.Secret.RecoveryDays)
	}
	return ""
}

func (t *textWriter) attr(name, value string) {
	t.printf("      %-12s %s\n", name, value)
}

func valueChange(v *provision.ValueChange) string {
	if v.Old == "" {
		return quote(v.New)
	}
	return quote(v.Old) + " → " + quote(v.New)
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return fmt.Sprintf("%q", s)
}

func (t *textWriter) secret(c provision.Change) {
	sc := c.Secret
	if sc == nil || c.Action == provision.ActionDelete {
		return
	}
	if sc.Payload != nil {
		t.attr("payload", PayloadSummary(sc.Payload))
	}
	if sc.Description != nil {
		t.attr("description", valueChange(sc.Description))
	}
	if sc.KMSKey != nil {
		k := *sc.KMSKey
		if k.Old == "" && c.Action != provision.ActionCreate {
			k.Old = "aws/secretsmanager"
		}
		if k.New == "" {
			k.New = "aws/secretsmanager"
		}
		t.attr("kms key", valueChange(&k))
	}
	if sc.Rotation != nil {
		t.attr("rotation", RotationSummary(sc.Rotation))
	}
	for _, tc := range sc.Tags {
		t.attr("tag", tagChange(tc))
	}
	if len(sc.Readers) > 0 && c.Action == provision.ActionCreate {
		t.attr("readers", strings.Join(sc.Readers, ", "))
	}
}

// NoPayloadsNote heads a plan made without the payload sources.
const NoPayloadsNote = "payloads not compared (sources not available): this plan shows every structural change, not whether a payload changed, and cannot be applied; ownership is taken from tags (the stage key is not read)"

// PayloadSummary says what happens to a payload without showing it.
func PayloadSummary(p *provision.PayloadChange) string {
	var b strings.Builder
	b.WriteString("(sensitive)")
	switch p.Status {
	case provision.PayloadNew:
		b.WriteString(" new")
	case provision.PayloadChangedInSpec:
		b.WriteString(" changed in spec")
	case provision.PayloadChangedOutside:
		b.WriteString(" changed outside secretboot, will be rewritten")
	case provision.PayloadRestoreStage:
		if p.CurrentBySecretboot {
			b.WriteString(" secretboot wrote the current version for another declaration; the declared version becomes current again")
		} else {
			b.WriteString(" current version was replaced outside secretboot, will be moved back")
		}
	case provision.PayloadUnverified:
		b.WriteString(" cannot be verified (no stage key), will be rewritten")
	case provision.PayloadNotCompared:
		b.WriteString(" not compared (sources not available)")
	}
	switch {
	case p.Generated:
		b.WriteString(" · generated")
	case p.FieldsHidden:
		names := []string{"(sensitive names)"}
		for _, f := range p.Fields {
			names = append(names, f.Name+" (generated)")
		}
		b.WriteString(" · fields: " + strings.Join(names, ", "))
	case len(p.Fields) > 0:
		names := make([]string, len(p.Fields))
		for i, f := range p.Fields {
			names[i] = f.Name
			if f.Generated {
				names[i] += " (generated)"
			}
		}
		b.WriteString(" · fields: " + strings.Join(names, ", "))
	case p.Kind == "binary":
		b.WriteString(" · binary")
	}
	if len(p.Regenerate) > 0 {
		var r []string
		for _, f := range p.Regenerate {
			if f == "" {
				f = "all generated values"
			}
			r = append(r, f)
		}
		b.WriteString(" · regenerate: " + strings.Join(r, ", "))
	}
	if p.ReadsLive {
		b.WriteString(" · keeps generated values")
	}
	return b.String()
}

func tagChange(tc provision.TagChange) string {
	switch {
	case tc.Removed:
		return fmt.Sprintf("- %s = %s", tc.Key, quote(tc.Old))
	case tc.Old == "":
		return fmt.Sprintf("+ %s = %s", tc.Key, quote(tc.New))
	}
	return fmt.Sprintf("~ %s = %s → %s", tc.Key, quote(tc.Old), quote(tc.New))
}

func (t *textWriter) role(c provision.Change) {
	rc := c.Role
	if rc == nil || c.Action == provision.ActionDelete {
		return
	}
	if c.Action == provision.ActionCreate {
		t.attr("trust", strings.Join(rc.Services, ", "))
		if rc.InstanceProfile {
			t.attr("profile", "instance profile "+c.Name)
		}
	}
	if rc.Description != nil {
		t.attr("description", valueChange(rc.Description))
	}
	if rc.Trust != nil && c.Action != provision.ActionCreate {
		t.attr("trust", TrustSummary(rc))
	}
	if rc.Boundary != nil {
		t.attr("boundary", valueChange(rc.Boundary))
	}
	for _, arn := range rc.Detach {
		t.attr("detach", arn+" (attached outside secretboot)")
	}
	for _, pn := range rc.DeleteInline {
		t.attr("inline", "delete "+pn+" (put outside secretboot)")
	}
	for _, tc := range rc.Tags {
		t.attr("tag", tagChange(tc))
	}
}

func (t *textWriter) policy(c provision.Change) {
	pc := c.Policy
	if pc == nil {
		return
	}
	if line := LayoutSummary(pc); line != "" {
		t.printf("      %s\n", line)
	}
	if line := RecordSummary(pc); line != "" {
		t.printf("      %s\n", line)
	}
	for _, m := range pc.Managed {
		if line := managedLine(m); line != "" {
			t.printf("      %s\n", line)
		}
	}
	// Grants are a table: action, resource, the BROADENS mark, then any
	// condition, in aligned columns so a reviewer's eye runs down them.
	actionWidth, resourceWidth, broadens := 0, 0, false
	for _, g := range pc.Grants {
		actionWidth = max(actionWidth, utf8.RuneCountInString(g.Action))
		resourceWidth = max(resourceWidth, utf8.RuneCountInString(ShortResourceIn(t.region, g.Resource)))
		broadens = broadens || g.Broadens
	}
	for _, g := range pc.Grants {
		line := opSymbol(g.Op) + " allow " + pad(g.Action, actionWidth) + "  " + pad(ShortResourceIn(t.region, g.Resource), resourceWidth)
		switch {
		case g.Broadens:
			line += "   " + t.c.Broadens("BROADENS")
		case broadens:
			line += "   " + pad("", len("BROADENS"))
		}
		if g.Condition != "" {
			line += "  when " + g.Condition
		}
		t.printf("      %s\n", strings.TrimRight(line, " "))
	}
	if len(pc.Pending) > 0 {
		t.printf("      (exact ARN after apply: %s)\n", strings.Join(pc.Pending, ", "))
	}
}

// LayoutSummary says where a read policy goes when that involves managed
// policies: "split into 3 managed policies: a, b, c", or that it moves
// back inline. It is "" for a policy that stays inline.
func LayoutSummary(pc *provision.PolicyChange) string {
	var keep, drop []string
	for _, m := range pc.Managed {
		if m.Action == provision.ActionDelete {
			drop = append(drop, m.Name)
		} else {
			keep = append(keep, m.Name)
		}
	}
	switch {
	case pc.Layout == provision.LayoutManaged:
		line := fmt.Sprintf("split into %d managed policies: %s", len(keep), strings.Join(keep, ", "))
		if len(keep) == 1 {
			line = "split into 1 managed policy: " + keep[0]
		}
		if pc.DeletesInline {
			line += " (replaces the inline policy " + pc.PolicyName + ")"
		}
		return line
	case pc.Layout == provision.LayoutInline && len(drop) > 0:
		return "moves back into the inline policy " + pc.PolicyName + "; managed policies deleted: " + strings.Join(drop, ", ")
	case pc.Layout == "" && len(drop) > 0:
		return "managed policies deleted: " + strings.Join(drop, ", ")
	}
	return ""
}

// RecordSummary says what happens to the stage key's record of an
// external role holding the read policy; "" when nothing does.
func RecordSummary(pc *provision.PolicyChange) string {
	r := pc.Record
	switch {
	case r == nil:
		return ""
	case r.Removed:
		return "forget the record of role " + pc.Role + " on the stage key (tag " + r.Key + ")"
	case r.Old != "":
		return "update the record of role " + pc.Role + " on the stage key (tag " + r.Key + ": " + r.Old + " → " + r.New + ")"
	}
	return "record role " + pc.Role + " on the stage key (tag " + r.Key + ")"
}

// managedLine describes what happens to one managed part; "" when nothing
// does or when LayoutSummary already says it (deletions).
func managedLine(m provision.ManagedPolicyChange) string {
	switch {
	case m.Action == provision.ActionCreate:
		return "+ managed policy " + m.Name
	case m.Action == provision.ActionUpdate && m.Attach:
		return "~ managed policy " + m.Name + "   (new default version, attach)"
	case m.Action == provision.ActionUpdate:
		return "~ managed policy " + m.Name + "   (new default version)"
	case m.Attach:
		return "~ managed policy " + m.Name + "   (attach)"
	}
	return ""
}

func opSymbol(op string) string {
	if op == "remove" {
		return "-"
	}
	return "+"
}

// ShortResource shows a secret ARN as its name and suffix, which is how
// reviewers know secrets; other ARNs are shown whole.
func ShortResource(arn string) string {
	if _, name, ok := strings.Cut(arn, ":secret:"); ok && strings.HasPrefix(arn, "arn:") {
		return name
	}
	return arn
}

// ShortResourceIn is ShortResource for a plan in region: a secret ARN in
// another region, a replica's, is followed by its region.
func ShortResourceIn(region, arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) == 5 && parts[2] == "secretsmanager" && parts[3] != region {
		return ShortResource(arn) + " @" + parts[3]
	}
	return ShortResource(arn)
}

func shortCaller(arn string) string {
	// arn:aws:sts::123456789012:assumed-role/deployer/ci → assumed-role/deployer/ci
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		return parts[5]
	}
	return arn
}

func summaryLine(p *provision.Plan) string {
	s := p.Summary
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
	switch s.Broadening {
	case 0:
	case 1:
		line += " 1 grant broadens access."
	default:
		line += fmt.Sprintf(" %d grants broaden access.", s.Broadening)
	}
	return line
}

// pad fills s with spaces to width characters.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(s)))
}
