package provision

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/spec"
)

const acct = "111111111111"

var testKey = []byte("0123456789abcdef0123456789abcdef")

func desired() *spec.Desired {
	return &spec.Desired{
		Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: acct, NamePrefix: "dev/", RolePrefix: "shop-dev-",
		Roles: []*spec.Role{
			{Key: "web", Name: "shop-dev-web", Description: "web tier", Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true},
			{Key: "reporting", Name: "shop-dev-reporting", External: "arn:aws:iam::111111111111:role/tf/tf-reporting"},
		},
		Secrets: []*spec.Secret{
			{Key: "app/db", Name: "dev/app/db", Description: "db", RecoveryWindowDays: 7,
				Readers: []spec.Reader{{Role: "web"}},
				Payload: spec.Payload{Kind: spec.KindObject, Declared: spec.SealString(`{"host":"h"}`), Fields: []string{"host", "password"},
					Generators: []spec.Generator{{Field: "password", Length: 16, Lower: true}}}},
			{Key: "app/stripe", Name: "dev/app/stripe", RecoveryWindowDays: 30, Tags: map[string]string{"team": "pay"},
				Readers: []spec.Reader{{Role: "reporting"}, {Role: "web", Describe: true}},
				Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString("sk_live")}},
		},
		SpecHash: "h1",
	}
}

func arnOf(name string) string {
	return "arn:aws:secretsmanager:us-east-1:111111111111:secret:" + name + "-AbCdEf"
}

// inSync is the observed state right after a successful apply of d.
func inSync(d *spec.Desired) *Observed {
	o := &Observed{
		Account: acct, Region: d.Region, CallerARN: "arn:aws:sts::111111111111:assumed-role/ci/x",
		Secrets: map[string]*ObservedSecret{}, Roles: map[string]*ObservedRole{}, External: map[string]*ObservedRole{},
		Recorded: map[string]string{}, Forgotten: map[string]*ObservedRole{},
		RoleClashes: map[string]string{}, Profiles: map[string]*ObservedProfile{},
		StageKey: &ObservedSecret{Name: StageKeyName(d), ARN: arnOf(StageKeyName(d)), Tags: ownerTags(d), Current: "k1", Versions: map[string][]string{"k1": {"AWSCURRENT"}}},
		stageKey: spec.Seal(testKey),
	}
	arns := map[string]string{}
	for _, s := range d.Secrets {
		tok := versionToken(testKey, d, s, 0)
		o.Secrets[s.Name] = &ObservedSecret{Name: s.Name, ARN: arnOf(s.Name), Description: s.Description, KMSKeyID: s.KMSKeyARN,
			Tags: desiredSecretTags(d, s, 0), Current: tok, Versions: map[string][]string{tok: {"AWSCURRENT"}}}
		arns[s.Name] = arnOf(s.Name)
	}
	for _, r := range d.Roles {
		doc, _ := readPolicy(d, d.Region, acct, arns, r)
		if !r.Managed() {
			o.External[r.Key] = &ObservedRole{Name: roleNameFromARN(r.External), ARN: r.External, Trust: "{}", Policy: string(doc.Compact())}
			k, v := externalTag(roleNameFromARN(r.External), r.External)
			o.StageKey.Tags[k] = v
			o.Recorded[roleNameFromARN(r.External)] = r.External
			continue
		}
		trust, _ := trustPolicy(r)
		o.Roles[r.Name] = &ObservedRole{Name: r.Name, ARN: "arn:aws:iam::111111111111:role/secretboot/shop/dev/" + r.Name,
			Description: r.Description, Trust: string(trust.Compact()), Policy: string(doc.Compact())}
		if r.InstanceProfile {
			o.Profiles[r.Name] = &ObservedProfile{Name: r.Name, Roles: []string{r.Name}}
		}
	}
	return o
}

func summarize(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		line := string(c.Action) + " " + c.ID
		if c.Secret != nil && c.Secret.Payload != nil {
			line += " [" + string(c.Secret.Payload.Status) + "]"
		}
		out = append(out, line)
	}
	return out
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(d *spec.Desired, o *Observed)
		opts   DiffOptions
		want   []string
		errHas string
	}{
		{name: "in sync", edit: func(*spec.Desired, *Observed) {}},
		{
			name: "first apply",
			edit: func(d *spec.Desired, o *Observed) {
				ext := o.External
				*o = Observed{Account: acct, Region: d.Region, Secrets: map[string]*ObservedSecret{}, Roles: map[string]*ObservedRole{},
					External: ext, RoleClashes: map[string]string{}, Profiles: map[string]*ObservedProfile{}}
				for _, e := range ext {
					e.Policy = ""
				}
			},
			want: []string{
				"create stage_key:dev/.secretboot/stage-key",
				"create role:shop-dev-web",
				"create secret:dev/app/db [new]",
				"create secret:dev/app/stripe [new]",
				"create role_policy:shop-dev-web/secretboot-read",
				"create role_policy:tf-reporting/secretboot-shop-dev-read",
				"create instance_profile:shop-dev-web",
			},
		},
		{
			name: "declared payload changed",
			edit: func(d *spec.Desired, _ *Observed) { d.Secrets[1].Payload.Declared = spec.SealString("sk_live_2") },
			want: []string{"update secret:dev/app/stripe [changed-in-spec]"},
		},
		{
			name: "generator spec changed",
			edit: func(d *spec.Desired, _ *Observed) { d.Secrets[0].Payload.Generators[0].Length = 20 },
			want: []string{"update secret:dev/app/db [changed-in-spec]"},
		},
		{
			name: "written outside secretboot",
			edit: func(_ *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				s.Current, s.Versions = "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}, "e4b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSPREVIOUS"}}
				s.History = map[string]bool{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true, "e4b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true, versionToken(testKey, desired(), desired().Secrets[1], 0) + "x": true}
				s.History[versionToken(testKey, desired(), desired().Secrets[1], 1)] = true // an older declaration
			},
			want: []string{"update secret:dev/app/stripe [changed-outside]"},
		},
		{
			name: "declared version deprecated by two writes outside",
			edit: func(d *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				tok := s.Current
				s.Current, s.Versions = "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}, "e4b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSPREVIOUS"}}
				s.History = map[string]bool{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true, "e4b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true, tok: true}
			},
			want: []string{"update secret:dev/app/stripe [restore-stage]"},
		},
		{
			name: "a later revision of the declaration is current",
			edit: func(d *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				rev := revisionToken(testKey, d, d.Secrets[1], 0, 2)
				s.Versions = map[string][]string{rev: {"AWSCURRENT"}, s.Current: {"AWSPREVIOUS"}}
				s.Current = rev
			},
		},
		{
			name: "forged tags on a declared secret",
			edit: func(_ *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				s.Current, s.Versions = "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}}
				s.History = map[string]bool{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true}
			},
			errHas: "secret dev/app/stripe carries this stage's tags, but none of its versions was written by secretboot",
		},
		{
			name: "forged tags on a secret the spec does not name",
			edit: func(d *spec.Desired, o *Observed) {
				o.Secrets["dev/other"] = &ObservedSecret{Name: "dev/other", ARN: arnOf("dev/other"), Tags: ownerTags(d),
					Current: "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", Versions: map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}},
					History: map[string]bool{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true}}
			},
		},
		{
			name: "adopted secret the spec does not name",
			edit: func(d *spec.Desired, o *Observed) {
				o.Secrets["dev/other"] = &ObservedSecret{Name: "dev/other", ARN: arnOf("dev/other"), Tags: ownerTags(d),
					Current: "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", Versions: map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}}}
				o.Secrets["dev/other"].Tags[TagMark] = ownerMark(testKey, d, "dev/other", arnOf("dev/other"))
			},
			want: []string{"delete secret:dev/other"},
		},
		{
			name: "rotation enabled outside the spec",
			edit: func(_ *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				s.RotationEnabled = true
				s.Versions = map[string][]string{"rotated": {"AWSCURRENT"}, s.Current: {"AWSPREVIOUS"}}
				s.Current = "rotated"
			},
			want: []string{"update secret:dev/app/stripe"}, // marked (TagMark), not restored
		},
		{
			name: "rotation enabled outside the spec, marked",
			edit: func(d *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				s.RotationEnabled = true
				s.Versions = map[string][]string{"rotated": {"AWSCURRENT"}, "rotated-before": {"AWSPREVIOUS"}}
				s.Current = "rotated"
				s.Tags[TagMark] = ownerMark(testKey, d, s.Name, s.ARN)
			},
		},
		{
			name: "current stage moved off our version",
			edit: func(_ *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/stripe"]
				s.Versions = map[string][]string{s.Current: {"AWSPREVIOUS"}, "other": {"AWSCURRENT"}}
				s.Current = "other"
			},
			want: []string{"update secret:dev/app/stripe [restore-stage]"},
		},
		{
			name: "stage key unreadable",
			edit: func(_ *spec.Desired, o *Observed) { o.stageKey = spec.Sealed{} },
			want: []string{"update secret:dev/app/db [unverified]", "update secret:dev/app/stripe [unverified]"},
		},
		{
			name: "metadata drift",
			edit: func(_ *spec.Desired, o *Observed) {
				s := o.Secrets["dev/app/db"]
				s.Description = "old"
				s.KMSKeyID = "arn:aws:kms:us-east-1:111111111111:key/x"
				s.Tags["extra"] = "1"
				s.Tags["aws:cloudformation:stack-name"] = "not ours"
			},
			want: []string{"update secret:dev/app/db"},
		},
		{
			name: "scheduled for deletion is restored",
			edit: func(_ *spec.Desired, o *Observed) { o.Secrets["dev/app/db"].Deleted = true },
			want: []string{"restore secret:dev/app/db"},
		},
		{
			name: "removed from spec is scheduled for deletion",
			edit: func(d *spec.Desired, _ *Observed) { d.Secrets = d.Secrets[1:] },
			want: []string{"delete secret:dev/app/db", "update role_policy:shop-dev-web/secretboot-read"},
		},
		{
			name: "unowned secrets are left alone",
			edit: func(_ *spec.Desired, o *Observed) {
				o.Secrets["dev/other"] = &ObservedSecret{Name: "dev/other", ARN: arnOf("dev/other"), Tags: map[string]string{}}
			},
		},
		{
			name: "regenerate one field",
			edit: func(*spec.Desired, *Observed) {},
			opts: DiffOptions{Regenerate: []string{"app/db.password"}},
			want: []string{"update secret:dev/app/db [changed-in-spec]"},
		},
		{
			name:   "regenerate a secret without generators",
			edit:   func(*spec.Desired, *Observed) {},
			opts:   DiffOptions{Regenerate: []string{"app/stripe"}},
			errHas: "has no generated value",
		},
		{
			name: "clash with an unowned secret",
			edit: func(_ *spec.Desired, o *Observed) {
				o.Secrets["dev/app/db"].Tags = map[string]string{"owner": "someone"}
			},
			errHas: "run: secretboot import dev/app/db",
		},
		{
			name: "clash with a role outside the path",
			edit: func(_ *spec.Desired, o *Observed) {
				delete(o.Roles, "shop-dev-web")
				o.RoleClashes["shop-dev-web"] = "arn:aws:iam::111111111111:role/shop-dev-web"
			},
			errHas: "role shop-dev-web (arn:aws:iam::111111111111:role/shop-dev-web) exists outside secretboot's path",
		},
		{
			name:   "missing external role",
			edit:   func(_ *spec.Desired, o *Observed) { delete(o.External, "reporting") },
			errHas: "external role reporting",
		},
		{
			name: "trust and description drift",
			edit: func(_ *spec.Desired, o *Observed) {
				r := o.Roles["shop-dev-web"]
				r.Description = "x"
				r.Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
			},
			want: []string{"update role:shop-dev-web"},
		},
		{
			name: "reader added",
			edit: func(d *spec.Desired, _ *Observed) {
				d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "reporting"})
			},
			want: []string{"update role_policy:tf-reporting/secretboot-shop-dev-read"},
		},
		{
			name: "profile lost its role",
			edit: func(_ *spec.Desired, o *Observed) { o.Profiles["shop-dev-web"].Roles = nil },
			want: []string{"update instance_profile:shop-dev-web"},
		},
		{
			name: "role removed from spec",
			edit: func(d *spec.Desired, _ *Observed) {
				d.Roles = d.Roles[1:]
				for _, s := range d.Secrets {
					var keep []spec.Reader
					for _, r := range s.Readers {
						if r.Role != "web" {
							keep = append(keep, r)
						}
					}
					s.Readers = keep
				}
			},
			want: []string{
				"delete role_policy:shop-dev-web/secretboot-read",
				"delete instance_profile:shop-dev-web",
				"delete role:shop-dev-web",
			},
		},
		{
			name: "destroy",
			edit: func(*spec.Desired, *Observed) {},
			opts: DiffOptions{Destroy: true},
			want: []string{
				"delete stage_key:dev/.secretboot/stage-key",
				"delete secret:dev/app/db",
				"delete secret:dev/app/stripe",
				"delete role_policy:shop-dev-web/secretboot-read",
				"delete role_policy:tf-reporting/secretboot-shop-dev-read",
				"delete instance_profile:shop-dev-web",
				"delete role:shop-dev-web",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := desired()
			o := inSync(d)
			tc.edit(d, o)
			p, err := Diff(d, o, tc.opts)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summarize(p)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			again, _ := Diff(d, o, tc.opts)
			if diff := cmp.Diff(p, again); diff != "" {
				t.Errorf("Diff is not deterministic:\n%s", diff)
			}
		})
	}
}

// TestForgedTagsAreNotDeleted: a secret tagged for the stage that
// secretboot never wrote is left alone, and the plan says why.
func TestForgedTagsAreNotDeleted(t *testing.T) {
	d := desired()
	o := inSync(d)
	o.Secrets["dev/other"] = &ObservedSecret{Name: "dev/other", ARN: arnOf("dev/other"), Tags: ownerTags(d),
		Current: "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", Versions: map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}},
		History: map[string]bool{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": true}}
	for _, destroy := range []bool{false, true} {
		p, err := Diff(d, o, DiffOptions{Destroy: destroy})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Changes {
			if c.Name == "dev/other" {
				t.Errorf("destroy=%v: forged secret in the plan: %+v", destroy, c)
			}
		}
		if !strings.Contains(strings.Join(p.Header.Warnings, "\n"), "secret dev/other carries this stage's tags, but none of its versions was written by secretboot for this stage: it is not deleted") {
			t.Errorf("destroy=%v: warnings %q", destroy, p.Header.Warnings)
		}
	}
}

func TestDiffDetails(t *testing.T) {
	d := desired()
	o := inSync(d)
	s := o.Secrets["dev/app/db"]
	s.Description = "old"
	s.Tags["extra"] = "1"
	p, err := Diff(d, o, DiffOptions{Regenerate: []string{"dev/app/db"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &SecretChange{
		ARN:         arnOf("dev/app/db"),
		Description: &ValueChange{Old: "old", New: "db"},
		Tags:        []TagChange{{Key: "extra", Old: "1", Removed: true}, {Key: TagGeneration, New: "1"}},
		Payload: &PayloadChange{Status: PayloadChangedInSpec, Kind: "object", Sensitive: "(sensitive)", Regenerate: []string{""},
			Fields:  []Field{{Name: "host"}, {Name: "password", Generated: true}},
			Version: versionToken(testKey, d, d.Secrets[0], 1), CurrentBySecretboot: true},
		Readers: []string{"shop-dev-web"},
	}
	if diff := cmp.Diff(want, p.Changes[0].Secret); diff != "" {
		t.Errorf("secret change (-want +got):\n%s", diff)
	}
}

func TestDiffBroadening(t *testing.T) {
	d := desired()
	o := inSync(d)
	d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "web", Describe: true})
	d.Secrets[0].Readers = d.Secrets[0].Readers[1:]
	p, err := Diff(d, o, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Broadening != 1 {
		t.Errorf("broadening = %d, want 1 (DescribeSecret added): %+v", p.Summary.Broadening, p.Changes)
	}
}

func TestVersionToken(t *testing.T) {
	d := desired()
	s := d.Secrets[1]
	tok := versionToken(testKey, d, s, 0)
	if len(tok) != 36 || tok[14] != '8' {
		t.Errorf("token %q is not a version-8 UUID", tok)
	}
	if !writtenBySecretboot(testKey, s.Name, tok) {
		t.Error("own token not recognised")
	}
	if writtenBySecretboot(testKey, "dev/other", tok) {
		t.Error("token recognised for another secret")
	}
	if writtenBySecretboot([]byte("another key 0123456789abcdef0123"), s.Name, tok) {
		t.Error("token recognised under another key")
	}
	if tok == versionToken(testKey, d, s, 1) {
		t.Error("the generation does not change the token")
	}
	if strings.Contains(tok, "sk_live") {
		t.Error("token shows the payload")
	}
}

func TestClashErrorIsTyped(t *testing.T) {
	d := desired()
	o := inSync(d)
	o.Secrets["dev/app/db"].Tags = nil
	_, err := Diff(d, o, DiffOptions{})
	var c *ClashError
	if !errors.As(err, &c) || len(c.Secrets) != 1 {
		t.Fatalf("want a ClashError, got %v", err)
	}
}

// TestNothingDeletedBeforeTheStageKey: before the first apply no secret
// can be secretboot's, so a tagged one is left alone.
func TestNothingDeletedBeforeTheStageKey(t *testing.T) {
	d := desired()
	o := inSync(d)
	o.StageKey, o.stageKey = nil, spec.Sealed{}
	o.Secrets["dev/other"] = &ObservedSecret{Name: "dev/other", ARN: arnOf("dev/other"), Tags: ownerTags(d),
		Current: "d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e", Versions: map[string][]string{"d3b07384-d9a0-4c9b-8f3e-7f2b1a2c3d4e": {"AWSCURRENT"}}}
	p, err := Diff(d, o, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Changes {
		if c.Name == "dev/other" {
			t.Errorf("a tagged secret is in the first plan: %+v", c)
		}
	}
	if !strings.Contains(strings.Join(p.Header.Warnings, "\n"), "secret dev/other carries this stage's tags, but the stage has no key yet") {
		t.Errorf("warnings %q", p.Header.Warnings)
	}
}
