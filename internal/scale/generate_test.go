package scale_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

func TestSourceIsDeterministic(t *testing.T) {
	a, err := scale.Source(300, 12, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := scale.Source(300, 12, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different spec (-first +second):\n%s", diff)
	}
	c, err := scale.Source(300, 12, 8)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(a["secrets.hcl"], c["secrets.hcl"]) {
		t.Error("another seed gave the same secrets")
	}
}

func TestSourceRejectsEmptyShapes(t *testing.T) {
	for name, size := range map[string][2]int{"no secrets": {0, 3}, "no roles": {3, 0}, "negative": {-1, -1}} {
		t.Run(name, func(t *testing.T) {
			if _, err := scale.Source(size[0], size[1], 1); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestDesiredShape checks the distribution the benchmarks rely on: every
// payload kind present, objects dominant, one to three readers, Zipf-like
// popularity, and every role's read policy within the inline limit.
func TestDesiredShape(t *testing.T) {
	tests := []struct {
		name           string
		n, r           int
		wantUnreadable bool // more grants than the roles' policies can hold
	}{
		{"typical", 500, 20, false},
		{"few roles", 600, 2, true},
		{"one role", 50, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := scale.Desired(tc.n, tc.r, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Secrets) != tc.n || len(d.Roles) != tc.r {
				t.Fatalf("got %d secrets and %d roles, want %d and %d", len(d.Secrets), len(d.Roles), tc.n, tc.r)
			}
			kinds := map[string]int{}
			grants := map[string][]policy.Grant{}
			unreadable := 0
			for _, s := range d.Secrets {
				kinds[kindOf(s.Payload)]++
				if len(s.Readers) > 3 {
					t.Errorf("%s has %d readers", s.Name, len(s.Readers))
				}
				if len(s.Readers) == 0 {
					unreadable++
				}
				for _, rd := range s.Readers {
					arn := "arn:aws:secretsmanager:" + scale.Region + ":" + scale.Account + ":secret:" + s.Name + "-AbCdEf"
					grants[rd.Role] = append(grants[rd.Role], policy.Grant{SecretARN: arn, Describe: rd.Describe})
				}
			}
			if (unreadable > 0) != tc.wantUnreadable {
				t.Errorf("%d secrets without readers, want some: %v", unreadable, tc.wantUnreadable)
			}
			if tc.n >= 500 {
				for _, k := range []string{"object+generated", "string", "generated", "binary"} {
					if kinds[k] == 0 {
						t.Errorf("no %s payload among %v", k, kinds)
					}
				}
				if kinds["object+generated"]*10 < tc.n*7 {
					t.Errorf("objects with a generated field are not most payloads: %v", kinds)
				}
			}
			var sizes []int
			for role, g := range grants {
				doc := policy.ReadPolicy(scale.Region, g)
				if size := policy.Size(doc); size > policy.DefaultLimits.InlineMax {
					t.Errorf("role %s: read policy of %d characters exceeds the inline limit", role, size)
				}
				sizes = append(sizes, len(g))
			}
			if tc.r >= 10 && !tc.wantUnreadable {
				slices.Sort(sizes)
				if top, median := sizes[len(sizes)-1], sizes[len(sizes)/2]; top < 2*median {
					t.Errorf("popularity is flat: top role reads %d secrets, median %d", top, median)
				}
			}
		})
	}
}

func kindOf(p spec.Payload) string {
	switch {
	case p.Kind == spec.KindBinary:
		return "binary"
	case p.Kind == spec.KindObject && len(p.Generators) > 0:
		return "object+generated"
	case len(p.Generators) > 0:
		return "generated"
	}
	return "string"
}
