package views

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

// The only lines with '<' outside code blocks that the renderers write:
// their own tags, with escaped spec text inside <code>.
var ownTagLines = []*regexp.Regexp{
	regexp.MustCompile(`^<details><summary>Policy document <code>[^<>]*</code></summary>$`),
	regexp.MustCompile(`^<details><summary>Grant changes per role</summary>$`),
	regexp.MustCompile(`^<details><summary>Not seen by audit</summary>$`),
	regexp.MustCompile(`^</details>$`),
}

// The shapes of the lines of a Mermaid block: labels hold only characters
// that mean nothing to Mermaid, Markdown or HTML, and entity codes.
var mermaidLines = []*regexp.Regexp{
	regexp.MustCompile(`^flowchart LR$`),
	regexp.MustCompile(`^  classDef (role|secret) [a-z0-9:#,-]+$`),
	regexp.MustCompile(`^  [rs]_[A-Za-z0-9_]+\["[A-Za-z0-9 ./_:+=,@#;-]*"\]:::(role|secret)$`),
	regexp.MustCompile(`^  r_[A-Za-z0-9_]+ (-->|==>|-\.->)\|"[A-Za-z0-9 ./_:+=,@#;-]*"\| s_[A-Za-z0-9_]+$`),
	regexp.MustCompile(`^  linkStyle [0-9]+(,[0-9]+)* stroke:#[0-9a-f]{6},stroke-(width:3px|dasharray:5 5)$`),
}

func matchesAny(res []*regexp.Regexp, l string) bool {
	for _, re := range res {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// tableCells counts a table row's cells as GitHub splits them: at every
// pipe that no backslash escapes.
func tableCells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// checkMarkdown asserts what escaping promises about rendered Markdown:
// code fences close where the renderer closes them, Mermaid blocks keep
// their syntax, no '<' outside code blocks but the renderer's own tags,
// <details> balanced, and every row of a table as many cells as its header.
func checkMarkdown(t testing.TB, md string) {
	t.Helper()
	var fence, lang string
	cols, details := 0, 0
	for i, l := range strings.Split(md, "\n") {
		if fence != "" {
			// CommonMark closes a fence with a line of at least as many
			// backticks, indented by at most three spaces.
			if trimmed := strings.TrimSpace(l); len(trimmed) >= len(fence) && strings.Trim(trimmed, "`") == "" &&
				len(l)-len(strings.TrimLeft(l, " ")) <= 3 {
				fence = ""
				continue
			}
			if lang == "mermaid" && !matchesAny(mermaidLines, l) {
				t.Errorf("line %d: not a line the Mermaid renderer writes: %q", i+1, l)
			}
			continue
		}
		if strings.HasPrefix(l, "```") {
			lang = strings.TrimLeft(l, "`")
			fence = l[:len(l)-len(lang)]
			continue
		}
		if strings.Contains(l, "<") && !matchesAny(ownTagLines, l) {
			t.Errorf("line %d: raw '<' from spec text: %q", i+1, l)
		}
		details += strings.Count(l, "<details>") - strings.Count(l, "</details>")
		if details < 0 {
			t.Errorf("line %d: </details> without <details>", i+1)
		}
		if strings.HasPrefix(l, "|") {
			if n := tableCells(l); cols == 0 {
				cols = n
			} else if n != cols {
				t.Errorf("line %d: %d cells, the table has %d: %q", i+1, n, cols, l)
			}
		} else {
			cols = 0
		}
	}
	if fence != "" {
		t.Errorf("a %s code fence is never closed", fence)
	}
	if details != 0 {
		t.Errorf("%d <details> never closed", details)
	}
}

// hostilePlan puts s wherever a plan carries spec text.
func hostilePlan(s string) *provision.Plan {
	h := header()
	h.Project, h.Stage, h.CredentialSource = s, s, s
	h.Warnings = []string{s}
	arn := arnPrefix + s + "-AbCdEf"
	return &provision.Plan{
		FormatVersion: provision.FormatVersion, Header: h, PayloadsNotCompared: true,
		Changes: []provision.Change{
			{ID: "role:" + s, Kind: provision.KindRole, Name: s, Action: provision.ActionCreate, Role: &provision.RoleChange{
				Services: []string{s}, Description: &provision.ValueChange{New: s}, Tags: []provision.TagChange{{Key: s, New: s}},
			}},
			{ID: "secret:" + s, Kind: provision.KindSecret, Name: s, Action: provision.ActionCreate, Secret: &provision.SecretChange{
				Description: &provision.ValueChange{Old: s, New: s}, Readers: []string{s}, KMSKey: &provision.ValueChange{New: s},
				Tags:    []provision.TagChange{{Key: s, Old: s, New: s}},
				Payload: &provision.PayloadChange{Status: provision.PayloadNew, Kind: "object", Fields: []provision.Field{{Name: s}}, Sensitive: "(sensitive)"},
			}},
			{ID: "role_policy:" + s, Kind: provision.KindRolePolicy, Name: s, Action: provision.ActionUpdate, Policy: &provision.PolicyChange{
				Role: s, PolicyName: s, Document: s, Pending: []string{s},
				Grants: []provision.GrantChange{
					{Op: "add", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arn, Condition: s, Broadens: true},
					{Op: "remove", Effect: "Allow", Action: s, Resource: arn},
					{Op: "add", Effect: "Allow", Action: "kms:Decrypt", Resource: s, Broadens: true},
				},
				Record: &provision.TagChange{Key: s, Old: s, Removed: true},
			}},
			{ID: "instance_profile:" + s, Kind: provision.KindInstanceProfile, Name: s, Action: provision.ActionCreate, Profile: &provision.ProfileChange{AddRole: s}},
		},
		Summary: provision.Summary{Add: 3, Change: 1, Broadening: 2},
	}
}

// hostileResult puts s wherever verify's result carries spec text.
func hostileResult(s string) *verify.Result {
	roles := []verify.Role{{Key: s, Name: s, Exists: true}, {Key: "/x/" + s, Name: s, Unlisted: true, Exists: true}}
	secrets := []verify.Secret{{Name: s, Exists: true, KMSKeyARN: s}, {Name: s + "2"}}
	r := &verify.Result{Project: s, Stage: s, Mode: verify.Simulated, Actions: append(append([]string(nil), verify.Actions...), verify.KMSDecrypt),
		Roles: roles, Secrets: secrets}
	for _, role := range roles {
		for _, a := range r.Actions {
			r.Cells = append(r.Cells, verify.Cell{Role: role.Key, Secret: s, Action: a, Allowed: a != verify.PutSecretValue})
		}
	}
	r.Expected = []verify.Cell{{Role: s, Secret: s, Action: verify.GetSecretValue, Allowed: true}, {Role: s, Secret: s + "2", Action: verify.GetSecretValue, Allowed: true}}
	r.Differences = []verify.Difference{
		{Kind: verify.Extra, Role: s, Secret: s, Action: verify.DescribeSecret, Sources: []string{s}},
		{Kind: verify.Unverified, Reason: s},
	}
	return r
}

var hostile = []string{
	`<img src=x onerror=alert(1)>`,
	`</details><script>alert(1)</script>`,
	"a|b||c\\|d",
	"`code` and ``` fences ````",
	"line\n\n<b>two</b>\r\n| x |",
	`"]:::role --> x["`,
	`$\sqrt{2}$ **bold** _it_ ~~del~~ [link](http://x) ![i](x)`,
	`&lt;script&gt; &#60;`,
	"\\",
	"",
	"end",
}

func TestMarkdownEscapesSpecText(t *testing.T) {
	for _, s := range hostile {
		t.Run(strconv.Quote(s), func(t *testing.T) { checkRenderings(t, s) })
	}
}

// checkRenderings renders every Markdown and DOT view with s wherever they
// carry spec text, and checks the escaping holds.
func checkRenderings(t *testing.T, s string) {
	t.Helper()
	for _, md := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return Markdown(b, hostilePlan(s)) },
		func(b *bytes.Buffer) error { return VerifyMarkdown(b, hostileResult(s)) },
		func(b *bytes.Buffer) error { return AuditMarkdown(b, hostileAudit(s)) },
	} {
		var b bytes.Buffer
		if err := md(&b); err != nil {
			t.Fatal(err)
		}
		checkMarkdown(t, b.String())
	}
	var b bytes.Buffer
	if err := VerifyDOT(&b, hostileResult(s)); err != nil {
		t.Fatal(err)
	}
	checkDOT(t, b.String())
}

// hostileAudit puts s wherever audit's result carries names from the spec
// or the account (a policy name is anyone's who may create one).
func hostileAudit(s string) *audit.Result {
	return &audit.Result{Project: s, Stage: s, Account: s, Action: s,
		Secrets:  []audit.Secret{{Name: s, Exists: true}, {Name: s + "2"}},
		Access:   []audit.Access{{Secret: s, Principal: s, Type: s, Name: s, Sources: []string{s, s}}},
		Findings: []audit.Finding{{Kind: audit.Reader, Secret: s, Principal: s, Detail: s}, {Kind: audit.FindingKind(s), Principal: s, Detail: s}},
		NotSeen:  []string{s},
	}
}

// The escaped forms, as GitHub shows them, say what the spec says.
func TestMdText(t *testing.T) {
	for in, want := range map[string]string{
		`<img src=x onerror=alert(1)>`: `&lt;img src=x onerror=alert(1)&gt;`,
		"a|b":                          `a\|b`,
		"x\ny":                         "x y",
		"`x`":                          "\\`x\\`",
		`$5 & *`:                       `\$5 &amp; \*`,
		"dev/app/db-1_x":               `dev/app/db-1\_x`,
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"dev/app/db": "`dev/app/db`",
		"a`b":        "a\\`b",
		"a|b":        `a\|b`,
		"":           "",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
}

var dotLines = []*regexp.Regexp{
	regexp.MustCompile(`^digraph access \{$`),
	regexp.MustCompile(`^  rankdir=LR;$`),
	regexp.MustCompile(`^  [rs]_[A-Za-z0-9_]+ \[label="(?:[^"\\]|\\.)*", shape=(box, style=filled, fillcolor="#ddf4ff"|note)\];$`),
	regexp.MustCompile(`^  r_[A-Za-z0-9_]+ -> s_[A-Za-z0-9_]+ \[label="(?:[^"\\]|\\.)*"(, color="#[0-9a-f]{6}", (penwidth=3|style=dashed))?\];$`),
	regexp.MustCompile(`^\}$`),
}

func checkDOT(t testing.TB, dot string) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimSuffix(dot, "\n"), "\n") {
		if !matchesAny(dotLines, l) {
			t.Errorf("line %d: not a line the DOT renderer writes: %q", i+1, l)
		}
	}
}

// FuzzMarkdown renders plans, verify and audit results carrying arbitrary
// spec text: go test -fuzz FuzzMarkdown ./cmd/secretboot/views/
func FuzzMarkdown(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(checkRenderings)
}

// largePlan is a stage of 2,000 secrets read by 200 roles, where every
// secret changes and every role loses ten grants and gains one.
func largePlan() *provision.Plan {
	p := &provision.Plan{FormatVersion: provision.FormatVersion, Header: header()}
	for i := range 2000 {
		name := fmt.Sprintf("dev/app/secret-%04d", i)
		p.Changes = append(p.Changes, provision.Change{ID: "secret:" + name, Kind: provision.KindSecret, Name: name, Action: provision.ActionUpdate,
			Secret: &provision.SecretChange{ARN: arnPrefix + name + "-AbCdEf", Description: &provision.ValueChange{Old: "old", New: "the secret number " + strconv.Itoa(i)},
				Payload: &provision.PayloadChange{Status: provision.PayloadChangedInSpec, Kind: "string", Sensitive: "(sensitive)"}}})
		p.Summary.Change++
	}
	for r := range 200 {
		role := fmt.Sprintf("shop-dev-role-%03d", r)
		pc := &provision.PolicyChange{Role: role, PolicyName: "secretboot-read", Document: readDoc, Layout: provision.LayoutInline}
		for k := range 10 {
			pc.Grants = append(pc.Grants, provision.GrantChange{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue",
				Resource: fmt.Sprintf("%sdev/app/secret-%04d-AbCdEf", arnPrefix, (r*10+k)%2000)})
		}
		pc.Grants = append(pc.Grants, provision.GrantChange{Op: "add", Effect: "Allow", Action: "secretsmanager:GetSecretValue",
			Resource: fmt.Sprintf("%sdev/app/secret-%04d-AbCdEf", arnPrefix, (r*7+3)%2000), Broadens: true})
		p.Changes = append(p.Changes, provision.Change{ID: "role_policy:" + role + "/secretboot-read", Kind: provision.KindRolePolicy,
			Name: role + "/secretboot-read", Action: provision.ActionUpdate, Policy: pc})
		p.Summary.Change++
		p.Summary.Broadening++
	}
	return p
}

var cutRows = regexp.MustCompile(`Left out: (\d+) of (\d+) changes in the table`)

func TestMarkdownLargePlanFitsAComment(t *testing.T) {
	p := largePlan()
	var first, second bytes.Buffer
	if err := Markdown(&first, p); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&second, p); err != nil {
		t.Fatal(err)
	}
	md := first.String()
	if md != second.String() {
		t.Fatal("rendering is not deterministic")
	}
	t.Logf("%d bytes, %d characters", len(md), len([]rune(md)))
	if len(md) > CommentLimit {
		t.Fatalf("%d bytes, more than GitHub's %d", len(md), CommentLimit)
	}
	checkMarkdown(t, md)
	for _, c := range p.Changes {
		if c.Policy == nil {
			continue
		}
		for _, g := range c.Policy.Grants {
			if g.Broadens {
				line := fmt.Sprintf("- `%s`: add `%s` on `%s`\n", c.Policy.Role, g.Action, ShortResource(g.Resource))
				if !strings.Contains(md, line) {
					t.Errorf("broadening grant left out: %s", line)
				}
			}
		}
	}
	m := cutRows.FindStringSubmatch(md)
	if m == nil {
		t.Fatalf("no note says which changes were cut:\n%s", md[:2000])
	}
	left, total := atoi(t, m[1]), atoi(t, m[2])
	rows := strings.Count(md, "\n| ✏️ update |")
	if total != len(p.Changes) || rows+left != total || rows == 0 {
		t.Errorf("the note says %d of %d left out, and the table has %d rows", left, total, rows)
	}
	// The first change left out is named.
	if want := "from " + mdCode(kindLabel(p.Changes[rows].Kind)+" "+p.Changes[rows].Name) + " on"; !strings.Contains(md, want) {
		t.Errorf("the note does not say %q", want)
	}
	for _, want := range []string{"the diagram", "policy documents", "`secretboot plan -json`", "plan -out FILE"} {
		if !strings.Contains(md, want) {
			t.Errorf("the note does not mention %q", want)
		}
	}
	if summary := strings.Index(md, "**Plan: 0 to add, 2200 to change"); summary < 0 || summary > strings.Index(md, "Cut to fit") {
		t.Error("the summary does not come first")
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// When the broadening grants alone exceed the limit, all of them are
// still listed and the note says so.
func TestMarkdownBroadeningNeverCut(t *testing.T) {
	p := largePlan()
	const limit = 4000
	var b bytes.Buffer
	if err := MarkdownWithin(&b, p, limit); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	checkMarkdown(t, md)
	if n := strings.Count(md, "`: add `secretsmanager:GetSecretValue` on"); n != 200 {
		t.Errorf("%d broadening grants listed, want 200", n)
	}
	for _, want := range []string{"The 200 grants broadening access alone exceed the comment limit", "Left out: 2200 of 2200 changes"} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md[:min(len(md), 3000)])
		}
	}
	if strings.Contains(md, "| Resource |") {
		t.Error("the table is there though nothing fits")
	}
}

// A plan that fits is whole, with no note.
func TestMarkdownWholeWhenItFits(t *testing.T) {
	var whole, within bytes.Buffer
	p := plans()["mixed"]
	if err := Markdown(&whole, p); err != nil {
		t.Fatal(err)
	}
	if err := MarkdownWithin(&within, p, whole.Len()); err != nil {
		t.Fatal(err)
	}
	if whole.String() != within.String() || strings.Contains(whole.String(), "Cut to fit") {
		t.Error("a plan that fits is cut")
	}
	within.Reset()
	if err := MarkdownWithin(&within, p, whole.Len()-1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(within.String(), "Cut to fit") {
		t.Error("a plan one byte over the limit is not cut")
	}
	checkMarkdown(t, within.String())
}

func TestNodeID(t *testing.T) {
	ids := map[string]string{}
	for _, name := range []string{"dev/app/db", "dev_app_db", "dev.app.db", "end", `"]x`, "", strings.Repeat("a", 300)} {
		id := nodeID("s", name)
		if !regexp.MustCompile(`^s_[A-Za-z0-9_]+$`).MatchString(id) || len(id) > 60 {
			t.Errorf("nodeID(%q) = %q", name, id)
		}
		if other, ok := ids[id]; ok {
			t.Errorf("%q and %q share the ID %s", name, other, id)
		}
		ids[id] = name
	}
	// Stable: the ID of a name does not depend on the other names.
	if got := nodeID("r", "shop-dev-web"); got != "r_shop_dev_web_18c7734c" {
		t.Errorf("nodeID changed: %s", got)
	}
}

// A cut plan, for review of the note's wording.
func TestMarkdownCutGolden(t *testing.T) {
	var b bytes.Buffer
	if err := MarkdownWithin(&b, plans()["mixed"], 3000); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 3000 {
		t.Errorf("%d bytes, more than 3000", b.Len())
	}
	checkMarkdown(t, b.String())
	golden.Check(t, filepath.Join("testdata", "mixed.cut.md"), b.Bytes())
}

// Graphviz reads what VerifyDOT writes, hostile names included. It runs
// where Graphviz's dot is installed (apt-get install graphviz).
func TestVerifyDOTGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
			t.Fatal("Graphviz's dot is not installed, and SECRETBOOT_REQUIRE_TOOLS=1 (CI) requires it")
		}
		t.Skip("Graphviz's dot is not installed; the DOT output is checked by its golden files and line shapes only")
	}
	d, m := verifyFixture()
	results := []*verify.Result{verify.NewResult(d, verify.Simulated, m)}
	for _, s := range hostile {
		results = append(results, hostileResult(s))
	}
	for i, r := range results {
		var in bytes.Buffer
		if err := VerifyDOT(&in, r); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = &in
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("result %d: dot: %v %s\n%s", i, err, stderr.String(), in.String())
		}
	}
}

// largeVerify is 50 roles each reading 8 of 400 secrets, one of which an
// administrator policy lets do everything: 1,200 differences.
func largeVerify() *verify.Result {
	d := &spec.Desired{Project: "shop", Stage: "dev", NamePrefix: "dev/"}
	for r := range 50 {
		d.Roles = append(d.Roles, &spec.Role{Key: fmt.Sprintf("role%02d", r), Name: fmt.Sprintf("shop-dev-role%02d", r)})
	}
	for i := range 400 {
		d.Secrets = append(d.Secrets, &spec.Secret{Key: fmt.Sprintf("app/s%03d", i), Name: fmt.Sprintf("dev/app/s%03d", i),
			Readers: []spec.Reader{{Role: fmt.Sprintf("role%02d", i%50)}}})
	}
	m := verify.Expected(d)
	for i := range m.Roles {
		m.Roles[i].Exists = true
	}
	for i := range m.Secrets {
		m.Secrets[i].Exists = true
	}
	for i, c := range m.Cells {
		if c.Role == "role00" && !strings.HasPrefix(c.Secret, "dev/.secretboot") {
			m.Cells[i].Allowed = true
		}
	}
	return verify.NewResult(d, verify.Simulated, m)
}

func TestVerifyMarkdownLargeFitsAComment(t *testing.T) {
	r := largeVerify()
	var b bytes.Buffer
	if err := VerifyMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	t.Logf("%d differences; %d bytes", len(r.Differences), len(md))
	if len(md) > CommentLimit {
		t.Fatalf("%d bytes, more than GitHub's %d", len(md), CommentLimit)
	}
	checkMarkdown(t, md)
	for _, want := range []string{
		fmt.Sprintf("**Not verified: %d differences from the spec:**", len(r.Differences)),
		fmt.Sprintf(" of %d differences (the last ones)", len(r.Differences)),
		"`secretboot verify -json`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q", want)
		}
	}
	if listed := strings.Count(md, "\n- extra access: "); listed == 0 || !strings.Contains(md, fmt.Sprintf("Left out: %d of", len(r.Differences)-listed)) {
		t.Errorf("%d differences listed, and the note does not count the rest", listed)
	}
}

// Past Mermaid's limits the Markdown says so instead of a diagram that
// would not draw.
func TestMermaidLimits(t *testing.T) {
	graph := func(edges int, nameLen int) *accessGraph {
		g := newGraphBuilder()
		for i := range edges {
			g.add("role", fmt.Sprintf("%0*d", nameLen, i), edgeAdded, "GetSecretValue")
		}
		return g.build(func(edgeState, []string) string { return "+ GetSecretValue" })
	}
	for _, tc := range []struct {
		name string
		g    *accessGraph
		want string
	}{
		{"500 edges", graph(500, 4), "```mermaid\n"},
		{"501 edges", graph(501, 4), "_The diagram has 501 arrows, more than Mermaid draws (500); see X._"},
		{"long names", graph(300, 200), "characters, more than Mermaid draws (50000); see X._"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.mermaidBlock("see X"); !strings.Contains(got, tc.want) {
				t.Errorf("got %.200q, want %q in it", got, tc.want)
			}
		})
	}
}
