package provision

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/spec"
)

const westKey = "arn:aws:kms:us-west-2:111111111111:key/1111aaaa-0000-0000-0000-000000000001"

// replicated is desired() with dev/app/db replicated to us-west-2 (with a
// customer key) and eu-west-1, and inSync's observation of it.
func replicated() (*spec.Desired, *Observed) {
	d := desired()
	d.Secrets[0].Replicas = []spec.Replica{{Region: "eu-west-1"}, {Region: "us-west-2", KMSKeyARN: westKey}}
	o := inSync(d)
	o.Secrets["dev/app/db"].PrimaryRegion = "us-east-1"
	o.Replication = map[string][]ObservedReplica{"dev/app/db": {
		{Region: "eu-west-1", KMSKeyID: defaultSecretsManagerKey, Status: ReplicaInSync},
		{Region: "us-west-2", KMSKeyID: westKey, Status: ReplicaInSync},
	}}
	return d, o
}

func replicationOf(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Kind != KindReplication {
			continue
		}
		line := string(c.Action) + " " + c.Name + ":"
		for _, r := range c.Replication.Replicas {
			line += " " + r.Op + " " + r.Region
			if r.KMSKey.New != "" {
				line += " key " + r.KMSKey.New[strings.LastIndex(r.KMSKey.New, "/")+1:]
			}
			if r.Message != "" {
				line += " (" + r.Message + ")"
			}
		}
		if len(c.DependsOn) > 0 {
			line += " after " + strings.Join(c.DependsOn, ",")
		}
		out = append(out, line)
	}
	return out
}

func TestDiffReplication(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *spec.Desired, o *Observed)
		opts DiffOptions
		want []string
	}{
		{name: "in sync", edit: func(*spec.Desired, *Observed) {}},
		{name: "in progress is no drift", edit: func(_ *spec.Desired, o *Observed) {
			o.Replication["dev/app/db"][0].Status = ReplicaInProgress
		}},
		{name: "key reported by id", edit: func(_ *spec.Desired, o *Observed) {
			o.Replication["dev/app/db"][1].KMSKeyID = "1111aaaa-0000-0000-0000-000000000001"
		}},
		{name: "removed outside", edit: func(_ *spec.Desired, o *Observed) {
			o.Replication["dev/app/db"] = o.Replication["dev/app/db"][:1]
		}, want: []string{"update dev/app/db: add us-west-2 key 1111aaaa-0000-0000-0000-000000000001"}},
		{name: "region added in spec", edit: func(d *spec.Desired, _ *Observed) {
			d.Secrets[0].Replicas = append(d.Secrets[0].Replicas, spec.Replica{Region: "ap-south-1"})
		}, want: []string{"update dev/app/db: add ap-south-1"}},
		{name: "region dropped from spec", edit: func(d *spec.Desired, _ *Observed) {
			d.Secrets[0].Replicas = d.Secrets[0].Replicas[1:]
		}, want: []string{"update dev/app/db: remove eu-west-1"}},
		{name: "every replica dropped", edit: func(d *spec.Desired, _ *Observed) {
			d.Secrets[0].Replicas = nil
		}, want: []string{"delete dev/app/db: remove eu-west-1 remove us-west-2"}},
		{name: "key changed", edit: func(d *spec.Desired, _ *Observed) {
			d.Secrets[0].Replicas[0].KMSKeyARN = "arn:aws:kms:eu-west-1:111111111111:key/eu"
		}, want: []string{"update dev/app/db: replace eu-west-1 key eu"}},
		{name: "failed replica", edit: func(_ *spec.Desired, o *Observed) {
			o.Replication["dev/app/db"][1].Status = ReplicaFailed
			o.Replication["dev/app/db"][1].Message = "KMS key disabled"
		}, want: []string{"update dev/app/db: retry us-west-2 key 1111aaaa-0000-0000-0000-000000000001 (KMS key disabled)"}},
		{name: "replicas added outside an unreplicated secret", edit: func(_ *spec.Desired, o *Observed) {
			o.Secrets["dev/app/stripe"].PrimaryRegion = "us-east-1"
			o.Replication["dev/app/stripe"] = []ObservedReplica{{Region: "ap-south-1", Status: ReplicaInSync}}
		}, want: []string{"delete dev/app/stripe: remove ap-south-1"}},
		{name: "new secret", edit: func(_ *spec.Desired, o *Observed) {
			delete(o.Secrets, "dev/app/db")
			delete(o.Replication, "dev/app/db")
		}, want: []string{"create dev/app/db: add eu-west-1 add us-west-2 key 1111aaaa-0000-0000-0000-000000000001 after secret:dev/app/db"}},
		{name: "destroy removes the replicas first", edit: func(*spec.Desired, *Observed) {}, opts: DiffOptions{Destroy: true},
			want: []string{"delete dev/app/db: remove eu-west-1 remove us-west-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, o := replicated()
			tt.edit(d, o)
			p, err := Diff(d, o, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, replicationOf(p)); diff != "" {
				t.Errorf("replication changes (-want +got):\n%s", diff)
			}
			for _, c := range p.Changes {
				if c.Kind == KindSecret && c.Action == ActionDelete && o.Replication[c.Name] != nil {
					if !contains(c.DependsOn, changeID(KindReplication, c.Name)) {
						t.Errorf("deleting %s does not wait for its replicas to go: depends on %v", c.Name, c.DependsOn)
					}
				}
			}
		})
	}
}

func TestDiffReplicaOfAnotherRegion(t *testing.T) {
	d, o := replicated()
	o.Secrets["dev/app/stripe"].PrimaryRegion = "eu-central-1"
	_, err := Diff(d, o, DiffOptions{})
	if err == nil || !strings.Contains(err.Error(), "dev/app/stripe is a replica of a secret whose primary is in eu-central-1") {
		t.Fatalf("err = %v, want a clash naming the replica", err)
	}
}

// TestReadPolicyReplicas pins which copies a reader is granted: every
// region by default, only its regions when it has some, each copy with
// its own key through Secrets Manager of its region.
func TestReadPolicyReplicas(t *testing.T) {
	d, o := replicated()
	d.Roles = append(d.Roles, &spec.Role{Key: "west", Name: "shop-dev-west", Services: []string{"ec2.amazonaws.com"}, Regions: []string{"us-west-2"}})
	d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "west"})
	in := Resolve(d, o)
	resources := func(key string) []string {
		var out []string
		for _, st := range in.role(key).Read.Statement {
			out = append(out, st.Resource...)
		}
		return out
	}
	db := arnOf("dev/app/db")
	want := map[string][]string{
		"web":  {ReplicaARN(db, "eu-west-1"), db, arnOf("dev/app/stripe"), ReplicaARN(db, "us-west-2"), arnOf("dev/app/stripe"), westKey},
		"west": {ReplicaARN(db, "us-west-2"), westKey},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, resources(k)); diff != "" {
			t.Errorf("role %s resources (-want +got):\n%s", k, diff)
		}
	}
	kms := in.role("west").Read.Statement[1].Condition
	if got := kms["StringEquals"]["kms:ViaService"]; len(got) != 1 || got[0] != "secretsmanager.us-west-2.amazonaws.com" {
		t.Errorf("the replica key's grant is through %v, want Secrets Manager of us-west-2", got)
	}
}
