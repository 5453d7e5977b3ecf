package provision

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// splitStage is desired() with n more secrets read by web, observed in
// sync: web's read policy split into attached managed parts, no inline
// policy.
func splitStage(t *testing.T, n int) (*spec.Desired, *Observed) {
	t.Helper()
	d := desired()
	for i := range n {
		d.Secrets = append(d.Secrets, &spec.Secret{
			Key: fmt.Sprintf("bulk/%04d", i), Name: fmt.Sprintf("dev/bulk/%04d", i), RecoveryWindowDays: 7,
			Readers: []spec.Reader{{Role: "web"}},
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")},
		})
	}
	o := inSync(d)
	o.Policies = map[string]*ObservedPolicy{}
	web := o.Roles["shop-dev-web"]
	doc, err := policy.Parse([]byte(web.Policy))
	if err != nil {
		t.Fatal(err)
	}
	layout, err := policy.Fit(doc, policy.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	web.Policy = ""
	for i, md := range layout.Managed {
		name := ReadPolicyPartName(d, d.Roles[0], i+1)
		p := &ObservedPolicy{Name: name, ARN: "arn:aws:iam::111111111111:policy/secretboot/shop/dev/" + name, DefaultVersion: "v1",
			Attachments: 1, Part: i + 1, Attached: true, Document: string(md.Compact())}
		o.Policies[name] = p
		web.Parts = append(web.Parts, p)
	}
	return d, o
}

func TestDiffSplitReadPolicy(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		edit   func(d *spec.Desired, o *Observed)
		want   *PolicyChange // Document and Grants are not compared
		errHas string
	}{
		{name: "in sync", n: 300, edit: func(*spec.Desired, *Observed) {}},
		{
			name: "first split replaces the inline policy",
			n:    300,
			edit: func(d *spec.Desired, o *Observed) {
				web := o.Roles["shop-dev-web"]
				web.Parts, o.Policies = nil, nil
				web.Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + arnOf("dev/app/db") + `"}]}`
			},
			want: &PolicyChange{Layout: LayoutManaged, DeletesInline: true, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1", Action: ActionCreate, Attach: true},
				{Name: "shop-dev-web-read-2", Action: ActionCreate, Attach: true},
				{Name: "shop-dev-web-read-3", Action: ActionCreate, Attach: true},
				{Name: "shop-dev-web-read-4", Action: ActionCreate, Attach: true},
			}},
		},
		{
			name: "one part changed, one detached, one surplus",
			n:    300,
			edit: func(d *spec.Desired, o *Observed) {
				web := o.Roles["shop-dev-web"]
				web.Parts[1].Document = `{"Version":"2012-10-17","Statement":[]}`
				web.Parts[2].Attached = false
				extra := &ObservedPolicy{Name: "shop-dev-web-read-5", ARN: "arn:aws:iam::111111111111:policy/secretboot/shop/dev/shop-dev-web-read-5", Part: 5, Attached: true}
				web.Parts = append(web.Parts, extra)
			},
			want: &PolicyChange{Layout: LayoutManaged, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1"},
				{Name: "shop-dev-web-read-2", Action: ActionUpdate},
				{Name: "shop-dev-web-read-3", Attach: true},
				{Name: "shop-dev-web-read-4"},
				{Name: "shop-dev-web-read-5", Action: ActionDelete},
			}},
		},
		{
			name: "back inline when the role reads less",
			n:    300,
			edit: func(d *spec.Desired, _ *Observed) {
				for _, s := range d.Secrets[2:] {
					s.Readers = nil
				}
			},
			want: &PolicyChange{Layout: LayoutInline, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1", Action: ActionDelete},
				{Name: "shop-dev-web-read-2", Action: ActionDelete},
				{Name: "shop-dev-web-read-3", Action: ActionDelete},
				{Name: "shop-dev-web-read-4", Action: ActionDelete},
			}},
		},
		{
			// An apply stopped between attaching the parts and deleting
			// the inline policy: the inline policy still goes.
			name: "inline left over next to the parts",
			n:    300,
			edit: func(_ *spec.Desired, o *Observed) {
				o.Roles["shop-dev-web"].Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + arnOf("dev/app/db") + `"}]}`
			},
			want: &PolicyChange{Layout: LayoutManaged, DeletesInline: true, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1"}, {Name: "shop-dev-web-read-2"}, {Name: "shop-dev-web-read-3"}, {Name: "shop-dev-web-read-4"},
			}},
		},
		{
			name: "others' attachments leave enough slots",
			n:    300,
			edit: func(_ *spec.Desired, o *Observed) { o.Roles["shop-dev-web"].Foreign = 6 },
		},
		{
			name:   "others' attachments leave too few slots",
			n:      300,
			edit:   func(_ *spec.Desired, o *Observed) { o.Roles["shop-dev-web"].Foreign = 7 },
			errHas: "(4 managed policies); at most 18432 fit in 3 managed policies of 6144 characters: 7 other managed policies are attached to the role and leave 3 of its 10 attachment slots; detach some of them",
		},
		{
			name: "a first split into slots all taken",
			n:    300,
			edit: func(_ *spec.Desired, o *Observed) {
				web := o.Roles["shop-dev-web"]
				web.Parts, o.Policies, web.Foreign = nil, nil, 10
				web.Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + arnOf("dev/app/db") + `"}]}`
			},
			errHas: "(4 managed policies); at most 0 fit in 0 managed policies of 6144 characters: 10 other managed policies are attached to the role and leave 0 of its 10 attachment slots",
		},
		{
			name: "a raised quota leaves enough slots",
			n:    300,
			edit: func(_ *spec.Desired, o *Observed) { o.Roles["shop-dev-web"].Foreign, o.AttachmentQuota = 16, 20 },
		},
		{
			name:   "a raised quota leaves too few slots",
			n:      300,
			edit:   func(_ *spec.Desired, o *Observed) { o.Roles["shop-dev-web"].Foreign, o.AttachmentQuota = 17, 20 },
			errHas: "17 other managed policies are attached to the role and leave 3 of its 20 attachment slots; detach some of them, or split the role's secrets across roles",
		},
		{
			name:   "quota not readable",
			n:      300,
			edit:   func(_ *spec.Desired, o *Observed) { o.Roles["shop-dev-web"].Foreign, o.AttachmentQuotaDenied = 7, true },
			errHas: "leave 3 of its 10 attachment slots; detach some of them, or split the role's secrets across roles. The account's quota of managed policies per role could not be read (iam:GetAccountSummary was denied), so secretboot counted IAM's default of 10; allow the caller iam:GetAccountSummary to plan with a raised quota (AWS raises it up to 20)",
		},
		{
			// Others' inline policies leave 240 characters: the two
			// secrets left go to one part, not inline.
			name: "others' inline policies leave no room inline",
			n:    300,
			edit: func(d *spec.Desired, o *Observed) {
				for _, s := range d.Secrets[2:] {
					s.Readers = nil
				}
				o.Roles["shop-dev-web"].ForeignInline = 10000
			},
			want: &PolicyChange{Layout: LayoutManaged, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1", Action: ActionUpdate},
				{Name: "shop-dev-web-read-2", Action: ActionDelete},
				{Name: "shop-dev-web-read-3", Action: ActionDelete},
				{Name: "shop-dev-web-read-4", Action: ActionDelete},
			}},
		},
		{
			name: "inline takes no slot",
			n:    300,
			edit: func(d *spec.Desired, o *Observed) {
				for _, s := range d.Secrets[2:] {
					s.Readers = nil
				}
				o.Roles["shop-dev-web"].Foreign = 10
			},
			want: &PolicyChange{Layout: LayoutInline, Managed: []ManagedPolicyChange{
				{Name: "shop-dev-web-read-1", Action: ActionDelete},
				{Name: "shop-dev-web-read-2", Action: ActionDelete},
				{Name: "shop-dev-web-read-3", Action: ActionDelete},
				{Name: "shop-dev-web-read-4", Action: ActionDelete},
			}},
		},
		{
			name:   "too large even split",
			n:      1000,
			edit:   func(*spec.Desired, *Observed) {},
			errHas: "the read policy of role shop-dev-web cannot fit its quotas: policy needs",
		},
		{
			name:   "more parts than the default quota, none attached by others",
			n:      1000,
			edit:   func(*spec.Desired, *Observed) {},
			errHas: "the role has 10 attachment slots; split the role's secrets across roles, or raise the account's quota of managed policies per role from 10 (AWS allows up to 20)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d *spec.Desired
			var o *Observed
			if tc.n >= 1000 {
				d, o = splitStage(t, 300)
				for i := 300; i < tc.n; i++ {
					d.Secrets = append(d.Secrets, &spec.Secret{Key: fmt.Sprintf("bulk/%04d", i), Name: fmt.Sprintf("dev/bulk/%04d", i),
						Readers: []spec.Reader{{Role: "web"}}, Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")}})
				}
			} else {
				d, o = splitStage(t, tc.n)
			}
			tc.edit(d, o)
			p, err := Diff(d, o, DiffOptions{})
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got *PolicyChange
			for _, c := range p.Changes {
				if c.ID == "role_policy:shop-dev-web/secretboot-read" {
					pc := *c.Policy
					pc.Role, pc.PolicyName, pc.Document, pc.Grants, pc.Pending = "", "", "", nil, nil
					for i := range pc.Managed {
						pc.Managed[i].Document = ""
					}
					got = &pc
				} else {
					t.Errorf("unexpected change %s", c.ID)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("read policy change (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFitReadPolicyQuota: a read policy needing more parts than IAM's
// default quota is split when the account's quota holds them, and refused
// when it does not.
func TestFitReadPolicyQuota(t *testing.T) {
	d, o := splitStage(t, 300)
	for i := 300; i < 1000; i++ {
		d.Secrets = append(d.Secrets, &spec.Secret{Key: fmt.Sprintf("bulk/%04d", i), Name: fmt.Sprintf("dev/bulk/%04d", i),
			Readers: []spec.Reader{{Role: "web"}}, Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("v")}})
	}
	doc, _ := readPolicy(d, o.Region, o.Account, Resolve(d, o).arns, d.Roles[0])
	web := o.Roles["shop-dev-web"]
	err := placeReadPolicy(doc, web, o).err
	var se *SlotsError
	if !errors.As(err, &se) || se.Quota != 10 || se.Err.Documents <= 10 {
		t.Fatalf("at the default quota: want a SlotsError for more than 10 parts, got %v", err)
	}
	o.AttachmentQuota = 20
	place := placeReadPolicy(doc, web, o)
	layout, err := place.layout, place.err
	if err != nil || len(layout.Managed) != se.Err.Documents {
		t.Fatalf("at a quota of 20: %d parts, %v; want the %d parts", len(layout.Managed), err, se.Err.Documents)
	}
	web.Foreign = 20 - se.Err.Documents + 1
	if err := placeReadPolicy(doc, web, o).err; !errors.As(err, &se) || se.Foreign != web.Foreign {
		t.Fatalf("at a quota of 20 with %d others attached: want a SlotsError, got %v", web.Foreign, err)
	}
}

// TestSplitGrantsAreTheUnion: moving a policy between inline and managed
// parts changes no grant; only a real change of access is listed.
func TestSplitGrantsAreTheUnion(t *testing.T) {
	d, o := splitStage(t, 300)
	web := o.Roles["shop-dev-web"]
	var parts []string
	for _, p := range web.Parts {
		parts = append(parts, p.Document)
	}
	whole, _ := readPolicy(d, d.Region, acct, Resolve(d, o).arns, d.Roles[0])
	if g := diffGrants([]string{string(whole.Canonical())}, parts); len(g) != 0 {
		t.Errorf("inline → parts changes grants: %+v", g)
	}
	d.Secrets = d.Secrets[:len(d.Secrets)-1]
	p, err := Diff(d, o, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []GrantChange{{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnOf("dev/bulk/0299")}}
	var got []GrantChange
	for _, c := range p.Changes {
		if c.Policy != nil && c.Policy.Role == "shop-dev-web" {
			got = c.Policy.Grants
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
}

func TestPartsOf(t *testing.T) {
	policies := map[string]*ObservedPolicy{}
	for _, n := range []string{"web-read-2", "web-read-1", "web-read-01", "web-read-read-1", "web-read-x", "web-read-", "webx-read-1", "web-read-10"} {
		policies[n] = &ObservedPolicy{Name: n}
	}
	var got []string
	for _, p := range partsOf(policies, "web-read") {
		got = append(got, fmt.Sprintf("%d:%s", p.Part, p.Name))
	}
	if diff := cmp.Diff([]string{"1:web-read-1", "2:web-read-2", "10:web-read-10"}, got); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}
