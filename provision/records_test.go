package provision

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/spec"
)

// forget drops the external role "reporting" from the spec; it stays
// recorded and holds what inSync gave it.
func forget(d *spec.Desired, o *Observed) {
	d.Roles = d.Roles[:1]
	for _, s := range d.Secrets {
		var keep []spec.Reader
		for _, r := range s.Readers {
			if r.Role != "reporting" {
				keep = append(keep, r)
			}
		}
		s.Readers = keep
	}
	r := o.External["reporting"]
	delete(o.External, "reporting")
	o.Forgotten[r.Name] = &ObservedRole{Name: r.Name, ARN: r.ARN, Policy: r.Policy}
}

func TestDiffExternalRecords(t *testing.T) {
	const (
		arn    = "arn:aws:iam::111111111111:role/tf/tf-reporting"
		tag    = TagExternalPrefix + "tf-reporting"
		id     = "role_policy:tf-reporting/secretboot-shop-dev-read"
		keyID  = "stage_key:dev/.secretboot/stage-key"
		partID = "arn:aws:iam::111111111111:policy/secretboot/shop/dev/tf-reporting-shop-dev-read-1"
	)
	type want struct {
		Action    Action
		DependsOn []string
		Record    *TagChange
		Document  bool // the change puts a policy
		Removes   bool // every grant change is a removal, and there is one
		Managed   []ManagedPolicyChange
	}
	tests := []struct {
		name   string
		edit   func(d *spec.Desired, o *Observed)
		opts   DiffOptions
		want   *want // nil: no change on the external role
		keyDep []string
	}{
		{name: "recorded and in sync", edit: func(*spec.Desired, *Observed) {}},
		{
			name: "holds the policy, not recorded",
			edit: func(_ *spec.Desired, o *Observed) { delete(o.StageKey.Tags, tag) },
			want: &want{Action: ActionUpdate, Record: &TagChange{Key: tag, New: arn}},
		},
		{
			name: "recorded with another ARN",
			edit: func(_ *spec.Desired, o *Observed) {
				o.StageKey.Tags[tag] = "arn:aws:iam::111111111111:role/old/tf-reporting"
			},
			want: &want{Action: ActionUpdate, Record: &TagChange{Key: tag, Old: "arn:aws:iam::111111111111:role/old/tf-reporting", New: arn}},
		},
		{
			name: "first apply records before the policy",
			edit: func(d *spec.Desired, o *Observed) {
				o.StageKey = nil
				o.External["reporting"].Policy = ""
			},
			want: &want{Action: ActionCreate, DependsOn: []string{keyID}, Record: &TagChange{Key: tag, New: arn}, Document: true},
		},
		{
			name: "removed from the spec",
			edit: forget,
			want: &want{Action: ActionDelete, Record: &TagChange{Key: tag, Old: arn, Removed: true}, Removes: true},
		},
		{
			name: "removed from the spec, split into parts",
			edit: func(d *spec.Desired, o *Observed) {
				forget(d, o)
				r := o.Forgotten["tf-reporting"]
				r.Parts = []*ObservedPolicy{{Name: "tf-reporting-shop-dev-read-1", ARN: partID, Part: 1, Attached: true, Document: r.Policy}}
				r.Policy = ""
			},
			want: &want{Action: ActionDelete, Record: &TagChange{Key: tag, Old: arn, Removed: true}, Removes: true,
				Managed: []ManagedPolicyChange{{Name: "tf-reporting-shop-dev-read-1", Action: ActionDelete}}},
		},
		{
			name: "removed from the spec, policy already gone",
			edit: func(d *spec.Desired, o *Observed) {
				forget(d, o)
				o.Forgotten["tf-reporting"].Policy = ""
			},
			want: &want{Action: ActionUpdate, Record: &TagChange{Key: tag, Old: arn, Removed: true}},
		},
		{
			name: "still in the spec, reads nothing",
			edit: func(d *spec.Desired, _ *Observed) { d.Secrets[1].Readers = d.Secrets[1].Readers[1:] },
			want: &want{Action: ActionDelete, Record: &TagChange{Key: tag, Old: arn, Removed: true}, Removes: true},
		},
		{
			name:   "destroy keeps the records with the stage key",
			edit:   forget,
			opts:   DiffOptions{Destroy: true},
			want:   &want{Action: ActionDelete, Removes: true},
			keyDep: []string{id},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := desired()
			o := inSync(d)
			tc.edit(d, o)
			p, err := Diff(d, o, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got *want
			for _, c := range p.Changes {
				switch {
				case c.ID == id:
					pc := c.Policy
					got = &want{Action: c.Action, DependsOn: c.DependsOn, Record: pc.Record, Document: pc.Document != "", Managed: pc.Managed}
					for i, g := range pc.Grants {
						got.Removes = (i == 0 || got.Removes) && g.Op == "remove" && !g.Broadens
					}
					for i := range got.Managed {
						got.Managed[i].Document = ""
					}
				case c.ID == keyID && c.Action == ActionDelete:
					if diff := cmp.Diff(tc.keyDep, c.DependsOn); diff != "" {
						t.Errorf("stage key deletion depends on (-want +got):\n%s", diff)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("external role change (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffTooManyExternalRoles(t *testing.T) {
	for _, n := range []int{MaxExternalRoles, MaxExternalRoles + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			d := desired()
			d.Roles = d.Roles[:1]
			o := inSync(d)
			for i := range n {
				arn := fmt.Sprintf("arn:aws:iam::111111111111:role/tf/ext-%02d", i)
				d.Roles = append(d.Roles, &spec.Role{Key: fmt.Sprintf("ext%02d", i), External: arn})
				o.External[fmt.Sprintf("ext%02d", i)] = &ObservedRole{Name: roleNameFromARN(arn), ARN: arn}
			}
			_, err := Diff(d, o, DiffOptions{})
			if n <= MaxExternalRoles {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := "stage dev names 46 external roles, more than 45"; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one containing %q", err, want)
			}
		})
	}
}

func TestExternalTagRoundTrip(t *testing.T) {
	tests := []struct{ name, arn, key, value string }{
		{"plain", "arn:aws:iam::1:role/tf/app", TagExternalPrefix + "app", "arn:aws:iam::1:role/tf/app"},
		{"comma", "arn:aws:iam::1:role/a,b", TagExternalPrefix + "a b", "arn:aws:iam::1:role/a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, value := externalTag(roleNameFromARN(tc.arn), tc.arn)
			if diff := cmp.Diff([]string{tc.key, tc.value}, []string{key, value}); diff != "" {
				t.Errorf("tag (-want +got):\n%s", diff)
			}
			got := recordedExternal(map[string]string{key: value, TagProject: "shop"})
			if diff := cmp.Diff(map[string]string{roleNameFromARN(tc.arn): tc.arn}, got); diff != "" {
				t.Errorf("recorded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffRecordsMakeRoom: when new records and the old ones would not fit
// the stage key's tags together, the new ones wait for the old ones to go.
func TestDiffRecordsMakeRoom(t *testing.T) {
	for _, old := range []int{maxRecords - 1, maxRecords} {
		t.Run(fmt.Sprint(old), func(t *testing.T) {
			d := desired()
			o := inSync(d)
			delete(o.StageKey.Tags, TagExternalPrefix+"tf-reporting")
			delete(o.Recorded, "tf-reporting")
			var want []string
			for i := range old {
				name := fmt.Sprintf("gone-%02d", i)
				arn := "arn:aws:iam::111111111111:role/tf/" + name
				k, v := externalTag(name, arn)
				o.StageKey.Tags[k] = v
				o.Recorded[name] = arn
				o.Forgotten[name] = &ObservedRole{Name: name, ARN: arn}
				want = append(want, "role_policy:"+name+"/secretboot-shop-dev-read")
			}
			if old < maxRecords {
				want = nil // one more record fits
			}
			p, err := Diff(d, o, DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Changes {
				if c.ID == "role_policy:tf-reporting/secretboot-shop-dev-read" {
					if diff := cmp.Diff(want, c.DependsOn); diff != "" {
						t.Errorf("new record depends on (-want +got):\n%s", diff)
					}
					return
				}
			}
			t.Fatal("no change records tf-reporting")
		})
	}
}
