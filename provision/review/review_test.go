package review_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/review"
	"github.com/secretboot/secretboot/spec"
)

// load evaluates one stage of a spec directory; payload environment
// variables get fixed values.
func load(t *testing.T, dir, stage string) *spec.Desired {
	t.Helper()
	cfg, diags := spec.Load(dir)
	if diags.HasErrors() {
		t.Fatalf("loading %s: %v", dir, diags)
	}
	d, diags := cfg.Evaluate(stage, spec.EvalOptions{LookupEnv: func(k string) (string, bool) {
		if k == "STRIPE_KEY" {
			return "sk_test_review", true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatalf("evaluating %s/%s: %v", dir, stage, diags)
	}
	return d
}

// observed makes every secret and role of d exist with ARNs shaped like
// AWS's, as after an apply.
func observed(d *spec.Desired) *provision.Observed {
	o := &provision.Observed{
		Account: d.AccountID, Region: d.Region,
		Secrets: map[string]*provision.ObservedSecret{}, Roles: map[string]*provision.ObservedRole{}, External: map[string]*provision.ObservedRole{},
	}
	tags := map[string]string{provision.TagProject: d.Project, provision.TagStage: d.Stage}
	for _, s := range d.Secrets {
		o.Secrets[s.Name] = &provision.ObservedSecret{Name: s.Name, Tags: tags,
			ARN: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbC123", d.Region, d.AccountID, s.Name)}
	}
	for _, r := range d.Roles {
		if r.Managed() {
			o.Roles[r.Name] = &provision.ObservedRole{Name: r.Name, ARN: "arn:aws:iam::" + d.AccountID + ":role" + provision.RolePath(d) + r.Name}
		} else {
			o.External[r.Key] = &provision.ObservedRole{ARN: r.External}
		}
	}
	return o
}

// manySecrets is a stage whose one role reads n secrets: too many for an
// inline policy, so the read policy is split.
func manySecrets(n int) *spec.Desired {
	d := &spec.Desired{Project: "big", Stage: "dev", Region: "us-east-1", AccountID: "111111111111", NamePrefix: "dev/", RolePrefix: "big-dev-",
		Roles: []*spec.Role{{Key: "web", Name: "big-dev-web", Services: []string{"ec2.amazonaws.com"}}}}
	for i := range n {
		name := fmt.Sprintf("dev/service-%03d/credentials", i)
		d.Secrets = append(d.Secrets, &spec.Secret{Key: name[4:], Name: name, Readers: []spec.Reader{{Role: "web"}}})
	}
	return d
}

func roleDocs(t *testing.T, d *spec.Desired, o *provision.Observed) []provision.RoleDocuments {
	t.Helper()
	docs, err := provision.RoleDocumentsOf(d, o)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// archive reads a stage directory as a txtar archive, names sorted.
func archive(t *testing.T, dir string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var a txtar.Archive
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", e.Name(), info.Mode().Perm())
		}
		a.Files = append(a.Files, txtar.File{Name: e.Name(), Data: b})
	}
	return txtar.Format(&a)
}

func TestWriteGolden(t *testing.T) {
	webapp := load(t, "../../examples/webapp", "dev")
	prod := load(t, "../../examples/multistage", "prod")
	big := manySecrets(300)
	tests := []struct {
		name  string
		d     *spec.Desired
		o     *provision.Observed
		files int
	}{
		{"webapp_pending", webapp, nil, 2},
		{"webapp_applied", webapp, observed(webapp), 2},
		{"multistage_prod_kms_external", prod, observed(prod), 5},
		{"split_300", big, observed(big), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			docs := roleDocs(t, tt.d, tt.o)
			paths, err := review.Write(dir, tt.d.Stage, docs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.files > 0 && len(paths) != tt.files {
				t.Errorf("wrote %d files, want %d: %v", len(paths), tt.files, paths)
			}
			if !sort.StringsAreSorted(paths) {
				t.Errorf("paths not sorted: %v", paths)
			}
			got := archive(t, filepath.Join(dir, tt.d.Stage))

			// Byte-stable: writing again changes nothing and Check agrees.
			if _, err := review.Write(dir, tt.d.Stage, roleDocs(t, tt.d, tt.o), nil); err != nil {
				t.Fatal(err)
			}
			if again := archive(t, filepath.Join(dir, tt.d.Stage)); string(again) != string(got) {
				t.Error("second write changed the files")
			}
			if stale, err := review.Check(dir, tt.d.Stage, docs, nil); err != nil || len(stale) != 0 {
				t.Errorf("Check after Write = %v, %v; want none", stale, err)
			}

			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func TestSplitFilesFitManagedQuota(t *testing.T) {
	d := manySecrets(300)
	docs := roleDocs(t, d, observed(d))
	files := review.Files(docs, nil)
	var managed int
	for _, f := range files {
		switch f.Kind {
		case review.KindManaged:
			managed++
			if n := policy.Size(f.Doc); n > policy.DefaultLimits.ManagedMax {
				t.Errorf("%s: %d characters, over %d", f.Name, n, policy.DefaultLimits.ManagedMax)
			}
		case review.KindRead:
			t.Errorf("%s: a split role has no inline read file", f.Name)
		}
	}
	if managed < 2 {
		t.Fatalf("got %d managed parts, want a split", managed)
	}
}

// stale is what the tests compare: the file, its problem and its grants
// in short form.
type stale struct {
	Name       string
	Problem    review.Problem
	Kind       review.Kind
	Broadens   bool
	Unparsable bool
	Grants     []string
}

func summarize(s []review.Stale) []stale {
	var out []stale
	for _, x := range s {
		st := stale{Name: filepath.Base(x.Path), Problem: x.Problem, Kind: x.Kind, Broadens: x.Broadens(), Unparsable: x.Unparsable}
		for _, g := range x.Grants {
			op := "-"
			if g.Added {
				op = "+"
			}
			if g.Broadens {
				op += "!"
			}
			res := g.Resource
			if i := strings.LastIndex(res, ":secret:"); i >= 0 {
				res = res[i+len(":secret:"):]
			}
			st.Grants = append(st.Grants, strings.TrimSpace(strings.Join(strings.Fields(op+" "+g.Principal+" "+g.Action+" "+res), " ")))
		}
		out = append(out, st)
	}
	return out
}

func TestCheck(t *testing.T) {
	base := func() *spec.Desired {
		return &spec.Desired{Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "111111111111", NamePrefix: "dev/", RolePrefix: "shop-dev-",
			Roles: []*spec.Role{
				{Key: "web", Name: "shop-dev-web", Services: []string{"ec2.amazonaws.com"}},
				{Key: "worker", Name: "shop-dev-worker", Services: []string{"ecs-tasks.amazonaws.com"}},
			},
			Secrets: []*spec.Secret{
				{Key: "a", Name: "dev/a", Readers: []spec.Reader{{Role: "web"}}},
				{Key: "b", Name: "dev/b", Readers: []spec.Reader{{Role: "web"}, {Role: "worker"}}},
			},
		}
	}
	tests := []struct {
		name   string
		change func(t *testing.T, dir string, d *spec.Desired) // after the files were written for base()
		want   []stale
	}{
		{
			name:   "current",
			change: func(*testing.T, string, *spec.Desired) {},
		},
		{
			name: "reader added broadens",
			change: func(_ *testing.T, _ string, d *spec.Desired) {
				d.Secrets[0].Readers = append(d.Secrets[0].Readers, spec.Reader{Role: "worker"})
			},
			want: []stale{{Name: "worker.json", Problem: review.Changed, Kind: review.KindRead, Broadens: true,
				Grants: []string{"+! secretsmanager:GetSecretValue dev/a-??????"}}},
		},
		{
			name: "describe added broadens",
			change: func(_ *testing.T, _ string, d *spec.Desired) {
				d.Secrets[1].Readers[1].Describe = true
			},
			want: []stale{{Name: "worker.json", Problem: review.Changed, Kind: review.KindRead, Broadens: true,
				Grants: []string{"+! secretsmanager:DescribeSecret dev/b-??????"}}},
		},
		{
			name: "reader removed narrows",
			change: func(_ *testing.T, _ string, d *spec.Desired) {
				d.Secrets[1].Readers = d.Secrets[1].Readers[:1]
			},
			want: []stale{{Name: "worker.json", Problem: review.Extra, Kind: review.KindRead,
				Grants: []string{"- secretsmanager:GetSecretValue dev/b-??????"}}},
		},
		{
			name: "edited by hand",
			change: func(t *testing.T, dir string, _ *spec.Desired) {
				p := filepath.Join(dir, "dev", "web.json")
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				writeTestFile(t, p, strings.ReplaceAll(string(b), "dev/a-??????", "dev/*"))
			},
			// The file claims more than the spec grants: updating it narrows.
			want: []stale{{Name: "web.json", Problem: review.Changed, Kind: review.KindRead,
				Grants: []string{"- secretsmanager:GetSecretValue dev/*", "+ secretsmanager:GetSecretValue dev/a-??????"}}},
		},
		{
			name: "missing and unparsable",
			change: func(t *testing.T, dir string, _ *spec.Desired) {
				if err := os.Remove(filepath.Join(dir, "dev", "web.trust.json")); err != nil {
					t.Fatal(err)
				}
				writeTestFile(t, filepath.Join(dir, "dev", "worker.json"), "not json\n")
			},
			want: []stale{
				{Name: "web.trust.json", Problem: review.Missing, Kind: review.KindTrust, Broadens: true,
					Grants: []string{"+! Service:ec2.amazonaws.com sts:AssumeRole"}},
				{Name: "worker.json", Problem: review.Changed, Kind: review.KindRead, Broadens: true, Unparsable: true,
					Grants: []string{"+! secretsmanager:GetSecretValue dev/b-??????"}},
			},
		},
		{
			name: "leftover files",
			change: func(t *testing.T, dir string, _ *spec.Desired) {
				writeTestFile(t, filepath.Join(dir, "dev", "old.trust.json"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
				writeTestFile(t, filepath.Join(dir, "dev", "README.md"), "not a policy file\n")
			},
			want: []stale{{Name: "old.trust.json", Problem: review.Extra, Kind: review.KindTrust,
				Grants: []string{"- Service:ec2.amazonaws.com sts:AssumeRole"}}},
		},
		{
			name: "trust service changed",
			change: func(_ *testing.T, _ string, d *spec.Desired) {
				d.Roles[1].Services = []string{"lambda.amazonaws.com"}
			},
			want: []stale{{Name: "worker.trust.json", Problem: review.Changed, Kind: review.KindTrust, Broadens: true,
				Grants: []string{"- Service:ecs-tasks.amazonaws.com sts:AssumeRole", "+! Service:lambda.amazonaws.com sts:AssumeRole"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := review.Write(dir, "dev", roleDocs(t, base(), nil), nil); err != nil {
				t.Fatal(err)
			}
			d := base()
			tt.change(t, dir, d)
			docs := roleDocs(t, d, nil)
			got, err := review.Check(dir, "dev", docs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(got)); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			// Write fixes whatever Check found, and leaves other files alone.
			if _, err := review.Write(dir, "dev", docs, nil); err != nil {
				t.Fatal(err)
			}
			if again, err := review.Check(dir, "dev", docs, nil); err != nil || len(again) != 0 {
				t.Errorf("Check after Write = %v, %v; want none", summarize(again), err)
			}
		})
	}
}

// A grant that moves between managed parts when a secret is added is not
// broadening; only the new secret's grant is.
func TestCheckSplitReshuffle(t *testing.T) {
	d := manySecrets(300)
	dir := t.TempDir()
	if _, err := review.Write(dir, "dev", roleDocs(t, d, nil), nil); err != nil {
		t.Fatal(err)
	}
	first := "dev/service-000/a-name-long-enough-to-push-a-neighbour-into-the-next-part"
	d.Secrets = append([]*spec.Secret{{Key: first[4:], Name: first, Readers: []spec.Reader{{Role: "web"}}}}, d.Secrets...)
	got, err := review.Check(dir, "dev", roleDocs(t, d, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	var broadening []string
	for _, s := range got {
		for _, g := range s.Grants {
			if g.Broadens {
				broadening = append(broadening, filepath.Base(s.Path)+" "+g.Resource)
			}
		}
	}
	want := []string{"web.managed-1.json arn:aws:secretsmanager:us-east-1:111111111111:secret:" + first + "-??????"}
	if diff := cmp.Diff(want, broadening); diff != "" {
		t.Errorf("broadening grants (-want +got):\n%s", diff)
	}
	if len(got) < 2 {
		t.Errorf("expected the parts after the first to change too, got %v", summarize(got))
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteMasks checks that every file Write saves went through the masks.
func TestWriteMasks(t *testing.T) {
	const action = "secretsmanager:GetSecretValue"
	dir := t.TempDir()
	mask := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(action), []byte("(masked)")) }
	paths, err := review.Write(dir, "dev", roleDocs(t, manySecrets(3), nil), nil, mask)
	if err != nil {
		t.Fatal(err)
	}
	masked := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(action)) {
			t.Errorf("%s holds %q after masking:\n%s", p, action, b)
		}
		if bytes.Contains(b, []byte("(masked)")) {
			masked++
		}
	}
	if masked == 0 {
		t.Fatalf("no file of %v went through the mask", paths)
	}
}

// TestResourceFiles: a secret that opts in to a resource policy has the
// reviewer file <secret>.resource.json ("/" written "~") holding the
// intent's document; a changed file is stale, and the file of a secret
// that opts out is extra and removed.
func TestResourceFiles(t *testing.T) {
	d := manySecrets(2)
	d.DeployerARN = "arn:aws:iam::111111111111:role/ci/deployer"
	d.Secrets[0].ResourcePolicy = true
	in := provision.Resolve(d, nil)
	docs := roleDocs(t, d, nil)
	var names []string
	for _, f := range review.Files(docs, in.Secrets) {
		names = append(names, f.Name)
		if f.Kind == review.KindResource && (f.Role != "service-000/credentials" || f.Doc != in.Secrets[0].Resource) {
			t.Errorf("resource file %s: secret %q, document %v; want the intent's", f.Name, f.Role, f.Doc)
		}
	}
	if want := []string{"service-000~credentials.resource.json", "web.json", "web.trust.json"}; !cmp.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	dir := t.TempDir()
	if _, err := review.Write(dir, "dev", docs, in.Secrets); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dev", "service-000~credentials.resource.json")
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, in.Secrets[0].Resource.Canonical()) {
		t.Fatalf("the resource file holds %s (%v), want the intent's document", b, err)
	}
	writeTestFile(t, path, `{"Version":"2012-10-17","Statement":[]}`)
	if got, err := review.Check(dir, "dev", docs, in.Secrets); err != nil || len(got) != 1 || got[0].Problem != review.Changed || got[0].Kind != review.KindResource {
		t.Errorf("a changed resource file: %+v, %v", got, err)
	}
	d.Secrets[0].ResourcePolicy = false
	off := provision.Resolve(d, nil).Secrets
	got, err := review.Check(dir, "dev", docs, off)
	if err != nil || len(got) != 1 || got[0].Problem != review.Extra || got[0].Kind != review.KindResource || got[0].Role != "service-000/credentials" {
		t.Fatalf("the file of a secret that opted out: %+v, %v", got, err)
	}
	if _, err := review.Write(dir, "dev", docs, off); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file of a secret that opted out was not removed: %v", err)
	}
}

// TestCrossAccountFiles: a cross-account reader gets the files of the
// other side, the identity policy its account's administrator installs
// (<account>~<role>.cross-account.json) and the statements the key owner
// adds (<key id>.key-policy.json), for exactly the secrets it reads; the
// stage's own roles are unchanged; an extra such file is found by Check.
func TestCrossAccountFiles(t *testing.T) {
	const (
		reporting = "arn:aws:iam::222222222222:role/reporting"
		audit     = "arn:aws:iam::333333333333:role/team/audit"
		key       = "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-aaaa-4c2e-9a0e-000000000001"
	)
	d := manySecrets(3)
	d.DeployerARN = "arn:aws:iam::111111111111:role/ci/deployer"
	for i, readers := range [][]string{{audit, reporting}, {reporting}, nil} {
		s := d.Secrets[i]
		s.ResourcePolicy, s.CrossAccountReaders = true, readers
		if readers != nil {
			s.KMSKeyARN = key
		}
	}
	o := observed(d)
	in := provision.Resolve(d, o)
	docs := roleDocs(t, d, o)
	dir := t.TempDir()
	if _, err := review.Write(dir, "dev", docs, in.Secrets); err != nil {
		t.Fatal(err)
	}
	got := archive(t, filepath.Join(dir, "dev"))
	golden.Check(t, filepath.Join("testdata", "cross_account.golden"), got)
	for _, want := range []string{"222222222222~reporting.cross-account.json", "333333333333~audit.cross-account.json", "0b9d3c3e-aaaa-4c2e-9a0e-000000000001.key-policy.json"} {
		if !strings.Contains(string(got), "-- "+want+" --") {
			t.Errorf("no file %s", want)
		}
	}
	for i := range in.Secrets {
		in.Secrets[i].CrossAccountReaders = nil
	}
	stale, err := review.Check(dir, "dev", docs, in.Secrets)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, s := range stale {
		if s.Problem == review.Extra {
			extra = append(extra, string(s.Kind)+" "+s.Role)
		}
	}
	if want := "[key-policy 0b9d3c3e-aaaa-4c2e-9a0e-000000000001 cross-account 222222222222~reporting cross-account 333333333333~audit]"; fmt.Sprint(extra) != want {
		t.Errorf("extra files without cross-account readers: %v, want %s", extra, want)
	}
}

// TestCrossAccountFilesReplicas: a cross-account reader of a replicated
// secret reads the replica too: its identity policy names the replica's
// ARN and decrypts with the replica's key through Secrets Manager of the
// replica's region, and that key's owner gets its own key-policy file.
func TestCrossAccountFilesReplicas(t *testing.T) {
	const (
		reporting = "arn:aws:iam::222222222222:role/reporting"
		key       = "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-aaaa-4c2e-9a0e-000000000001"
		westKey   = "arn:aws:kms:us-west-2:111111111111:key/0b9d3c3e-bbbb-4c2e-9a0e-000000000002"
	)
	d := manySecrets(1)
	d.DeployerARN = "arn:aws:iam::111111111111:role/ci/deployer"
	s := d.Secrets[0]
	s.ResourcePolicy, s.CrossAccountReaders, s.KMSKeyARN = true, []string{reporting}, key
	s.Replicas = []spec.Replica{{Region: "us-west-2", KMSKeyARN: westKey}}
	o := observed(d)
	in := provision.Resolve(d, o)
	dir := t.TempDir()
	if _, err := review.Write(dir, "dev", roleDocs(t, d, o), in.Secrets); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, name := range []string{"222222222222~reporting.cross-account.json", "0b9d3c3e-bbbb-4c2e-9a0e-000000000002.key-policy.json"} {
		b, err := os.ReadFile(filepath.Join(dir, "dev", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	replica := provision.ReplicaARN(in.Secrets[0].ARN, "us-west-2")
	identity := files["222222222222~reporting.cross-account.json"]
	for _, want := range []string{`"` + in.Secrets[0].ARN + `"`, `"` + replica + `"`, `"` + westKey + `"`, `"secretsmanager.us-west-2.amazonaws.com"`} {
		if !strings.Contains(identity, want) {
			t.Errorf("the identity policy lacks %s:\n%s", want, identity)
		}
	}
	keyPolicy := files["0b9d3c3e-bbbb-4c2e-9a0e-000000000002.key-policy.json"]
	for _, want := range []string{`"` + replica + `"`, `"secretsmanager.us-west-2.amazonaws.com"`, reporting} {
		if !strings.Contains(keyPolicy, want) {
			t.Errorf("the replica key's policy statements lack %s:\n%s", want, keyPolicy)
		}
	}
	if strings.Contains(keyPolicy, "us-east-1") {
		t.Errorf("the replica key's statements name the primary's region:\n%s", keyPolicy)
	}
}
