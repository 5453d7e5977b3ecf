package provision

import (
	"strings"
	"testing"
)

// Resolve records the live read policies that are exactly what apply
// wrote for the intended ones, so that the fingerprint and Diff need not
// parse them: the canonical form recorded must be the one parsing gives,
// a document written otherwise is still parsed, and a changed one still
// planned.
func TestWrittenPoliciesNeedNoParse(t *testing.T) {
	d := desired()
	d.Secrets[0].KMSKeyARN = "arn:aws:kms:us-east-1:" + acct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab" // conditions too
	stripe := `,"` + arnOf("dev/app/stripe") + `"]`
	tests := []struct {
		name    string
		edit    func(policy string) string
		seeded  bool
		changes []string
	}{
		{name: "as apply writes it", edit: func(p string) string { return p }, seeded: true},
		{name: "indented", edit: canonicalOf},
		{name: "a grant less", edit: func(p string) string { return strings.Replace(p, stripe, "]", 1) },
			changes: []string{"update role_policy:shop-dev-web/secretboot-read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := inSync(d)
			o.canon = &canonicalCache{m: map[string]string{}}
			live := o.Roles["shop-dev-web"]
			live.Policy = tt.edit(live.Policy)
			Resolve(d, o)
			if _, seeded := o.canon.m[live.Policy]; seeded != tt.seeded {
				t.Errorf("known without parsing: %v, want %v", seeded, tt.seeded)
			}
			p, err := Diff(d, o, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := summarize(p); strings.Join(got, "\n") != strings.Join(tt.changes, "\n") {
				t.Errorf("changes %q, want %q", got, tt.changes)
			}
			if got, want := o.canon.m[live.Policy], canonicalOf(live.Policy); got != want {
				t.Errorf("cached canonical form\n%s\nwant\n%s", got, want)
			}
		})
	}
}
