package provision_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// Sequences a team runs every week (issue #12). Each ends converged: the
// next plan is empty, the value read back is the declaration, the
// generated password is the one generated first, and the secret has the
// versions the sequence explains.

func writeOutside(t *testing.T, s *provision.Session, name, value string) {
	t.Helper()
	if _, err := s.SecretsManager.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(name), SecretString: aws.String(value),
	}); err != nil {
		t.Fatalf("writing %s outside secretboot: %v", name, err)
	}
}

// versionCount counts every version of a secret, deprecated ones included.
func versionCount(t *testing.T, s *provision.Session, name string) int {
	t.Helper()
	n := 0
	p := secretsmanager.NewListSecretVersionIdsPaginator(s.SecretsManager, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name), IncludeDeprecated: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing versions of %s: %v", name, err)
		}
		n += len(page.Versions)
	}
	return n
}

func dbFields(t *testing.T, s *provision.Session, name string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(secretValue(t, s, name)), &m); err != nil {
		t.Fatalf("%s does not hold a JSON object", name)
	}
	return m
}

// checkDB checks the db secret: declared host, the first password, and
// the number of versions.
func checkDB(t *testing.T, s *provision.Session, name, host, password string, versions int) {
	t.Helper()
	m := dbFields(t, s, name)
	if m["host"] != host || m["username"] != "app" || m["password"] != password || len(m) != 3 {
		t.Errorf("%s: host %q (want %q), password kept %v, fields %d", name, m["host"], host, m["password"] == password, len(m))
	}
	if n := versionCount(t, s, name); n != versions {
		t.Errorf("%s has %d versions, want %d", name, n, versions)
	}
}

func checkStripe(t *testing.T, s *provision.Session, name, value string, versions int) {
	t.Helper()
	if secretValue(t, s, name) != value {
		t.Errorf("%s does not hold the declared value", name)
	}
	if n := versionCount(t, s, name); n != versions {
		t.Errorf("%s has %d versions, want %d", name, n, versions)
	}
}

func payloadStatus(p *provision.Plan, name string) (provision.PayloadStatus, bool) {
	for _, c := range p.Changes {
		if c.Name == name && c.Secret != nil && c.Secret.Payload != nil {
			return c.Secret.Payload.Status, c.Secret.Payload.CurrentBySecretboot
		}
	}
	return "", false
}

// TestRevisitedDeclaration: apply (A) → apply --var B → apply --var C →
// apply (A): the last apply makes A's version current again, although it
// lost every label, instead of a write Secrets Manager would ignore.
func TestRevisitedDeclaration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("revisit")
		d := testDesired(stage, b.account, canary)
		db, stripe := stage+"/app/db", stage+"/app/stripe"
		converge(t, s, d, provision.DiffOptions{})
		pw := dbFields(t, s, db)["password"]
		for i, host := range []string{"b.internal", "c.internal", "db.internal"} {
			d.Secrets[0].Payload = dbPayload(host)
			d.Secrets[1].Payload.Declared = spec.SealString(canary + "-" + host)
			if host == "db.internal" {
				d.Secrets[1].Payload.Declared = spec.SealString(canary)
			}
			d.SpecHash = "spec-" + host
			before := snapshot(b)
			p := converge(t, s, d, provision.DiffOptions{})
			if i == 2 && b.calls != nil {
				// The history costs one call per changed secret in the
				// plan and in apply's re-observation, none in the clean
				// plan after; each stage move one DescribeSecret.
				calls := snapshot(b)
				got := map[string]int{}
				for _, op := range []string{"secretsmanager.ListSecretVersionIds", "secretsmanager.DescribeSecret", "secretsmanager.UpdateSecretVersionStage", "secretsmanager.PutSecretValue", "secretsmanager.GetSecretValue"} {
					if n := calls[op] - before[op]; n > 0 {
						got[op] = n
					}
				}
				want := map[string]int{"secretsmanager.ListSecretVersionIds": 4, "secretsmanager.DescribeSecret": 2, "secretsmanager.UpdateSecretVersionStage": 2, "secretsmanager.GetSecretValue": 3}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("calls of the revisiting converge (-want +got):\n%s", diff)
				}
			}
			st, ours := payloadStatus(p, db)
			want := provision.PayloadChangedInSpec
			if i == 2 {
				want = provision.PayloadRestoreStage
			}
			if st != want || !ours {
				t.Errorf("step %d: status %q (want %q), current by secretboot %v", i, st, want, ours)
			}
			if i == 2 && !strings.Contains(textOf(t, p), "secretboot wrote the current version") {
				t.Errorf("step %d: provenance not in the plan text:\n%s", i, textOf(t, p))
			}
		}
		checkDB(t, s, db, "db.internal", pw, 3)
		checkStripe(t, s, stripe, canary, 3)
	})
}

// TestWritesOutside: one, two and three writes outside secretboot, with
// and without generated fields and with values that drop the generated
// field, are undone by moving AWSCURRENT back: no new version.
func TestWritesOutside(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		for n := 1; n <= 3; n++ {
			s := b.mustConnect(t)
			stage := uniqueStage("outside")
			d := testDesired(stage, b.account, canary)
			db, stripe := stage+"/app/db", stage+"/app/stripe"
			converge(t, s, d, provision.DiffOptions{})
			pw := dbFields(t, s, db)["password"]
			for i := range n {
				writeOutside(t, s, db, []string{`{"host":"evil","username":"app","password":"changed-by-hand"}`, "not json", `{"host":"x"}`}[i])
				writeOutside(t, s, stripe, "by hand "+string(rune('a'+i)))
			}
			p := converge(t, s, d, provision.DiffOptions{})
			for _, name := range []string{db, stripe} {
				if st, ours := payloadStatus(p, name); st != provision.PayloadRestoreStage || ours {
					t.Errorf("%d writes: %s status %q, current by secretboot %v", n, name, st, ours)
				}
			}
			checkDB(t, s, db, "db.internal", pw, 1+n)
			checkStripe(t, s, stripe, canary, 1+n)
		}
	})
}

// TestWriteOutsideThenSpecChange: a write outside that drops or replaces
// the generated password, then a spec change: the new version takes the
// password from the version secretboot wrote, not the one written outside,
// and not a new one.
func TestWriteOutsideThenSpecChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		for _, outside := range []string{"not json at all", `{"host":"db.internal","username":"app","password":"set-by-hand"}`} {
			s := b.mustConnect(t)
			stage := uniqueStage("outspec")
			d := testDesired(stage, b.account, canary)
			db := stage + "/app/db"
			converge(t, s, d, provision.DiffOptions{})
			pw := dbFields(t, s, db)["password"]
			writeOutside(t, s, db, outside)
			d.Secrets[0].Payload = dbPayload("b.internal")
			d.SpecHash = "spec-2"
			p := converge(t, s, d, provision.DiffOptions{})
			if st, _ := payloadStatus(p, db); st != provision.PayloadChangedOutside {
				t.Errorf("status %q", st)
			}
			checkDB(t, s, db, "b.internal", pw, 3)
		}
	})
}

// TestStageMovedToOldVersion: somebody moves AWSCURRENT to a deprecated
// version secretboot wrote for an older declaration; the plan says
// secretboot wrote it, and apply moves AWSCURRENT back.
func TestStageMovedToOldVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		ctx := context.Background()
		stage := uniqueStage("moved")
		d := testDesired(stage, b.account, canary)
		db := stage + "/app/db"
		converge(t, s, d, provision.DiffOptions{})
		pw := dbFields(t, s, db)["password"]
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		first := o.Secrets[db].Current
		for _, host := range []string{"b.internal", "c.internal"} {
			d.Secrets[0].Payload = dbPayload(host)
			d.SpecHash = "spec-" + host
			converge(t, s, d, provision.DiffOptions{})
		}
		o, err = provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SecretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(db), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(first), RemoveFromVersionId: aws.String(o.Secrets[db].Current),
		}); err != nil {
			t.Fatal(err)
		}
		p := converge(t, s, d, provision.DiffOptions{})
		if st, ours := payloadStatus(p, db); st != provision.PayloadRestoreStage || !ours {
			t.Errorf("status %q, current by secretboot %v", st, ours)
		}
		checkDB(t, s, db, "c.internal", pw, 3)
	})
}

// TestSameTokenOtherData: the plan cannot see the versions (the stage key
// is scheduled for deletion), so apply writes the declaration under its
// first token, which a version with another password already holds: the
// value goes into a new revision whose token the next plan recognises.
// Without the stage key at plan time the current value is treated like an
// adopted one, so its password is kept. Without generated fields the same
// write repeats the old version's data: Secrets Manager ignores it, and
// apply moves AWSCURRENT instead. Moto cannot express this: it lists
// deprecated versions in SecretVersionsToStages (with no label), which AWS
// does not, so apply finds the first version there.
func TestSameTokenOtherData(t *testing.T) {
	t.Parallel()
	func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		ctx := context.Background()
		stage := uniqueStage("token")
		d := testDesired(stage, b.account, canary)
		db, stripe := stage+"/app/db", stage+"/app/stripe"
		converge(t, s, d, provision.DiffOptions{})
		writeOutside(t, s, db, `{"host":"db.internal","username":"app","password":"set-by-hand-0123456789"}`)
		writeOutside(t, s, db, `{"host":"db.internal","username":"app","password":"set-by-hand-0123456789"}`)
		writeOutside(t, s, stripe, "by hand")
		if _, err := s.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(provision.StageKeyName(d)), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		p := converge(t, s, d, provision.DiffOptions{})
		if st, _ := payloadStatus(p, db); st != provision.PayloadUnverified {
			t.Errorf("status %q", st)
		}
		checkDB(t, s, db, "db.internal", "set-by-hand-0123456789", 4)
		checkStripe(t, s, stripe, canary, 2)
	}(t, startBackend(t, "sandbox"))
}

// TestForgedTags: tags alone do not make a secret the stage's. A tagged
// secret the spec does not name is not deleted; one it names is a clash
// until imported.
func TestForgedTags(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		ctx := context.Background()
		stage := uniqueStage("forged")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		tags := []smtypes.Tag{{Key: aws.String(provision.TagProject), Value: aws.String("shop")}, {Key: aws.String(provision.TagStage), Value: aws.String(stage)}}
		for _, name := range []string{stage + "/unrelated", stage + "/app/new"} {
			if _, err := s.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("theirs"), Tags: tags}); err != nil {
				t.Fatal(err)
			}
		}
		p := plan(t, s, d, provision.DiffOptions{})
		if !p.Empty() || !strings.Contains(strings.Join(p.Header.Warnings, "\n"), stage+"/unrelated carries this stage's tags") {
			t.Errorf("plan with a forged secret:\n%s", textOf(t, p))
		}
		d.Secrets = append(d.Secrets, &spec.Secret{Key: "app/new", Name: stage + "/app/new", RecoveryWindowDays: 7,
			Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canary + "-new")}})
		d.SpecHash = "spec-2"
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provision.Diff(d, o, provision.DiffOptions{})
		if err == nil || !strings.Contains(err.Error(), "run: secretboot import "+stage+"/app/new") {
			t.Fatalf("declared forged secret: %v", err)
		}
		if _, err := provision.Import(ctx, s, d, []string{"app/new"}); err != nil {
			t.Fatal(err)
		}
		converge(t, s, d, provision.DiffOptions{})
		checkStripe(t, s, stage+"/app/new", canary+"-new", 2)
		if secretValue(t, s, stage+"/unrelated") != "theirs" {
			t.Error("the unrelated secret was touched")
		}
	})
}

// TestRemovalWindow: a secret that leaves the spec is scheduled for
// deletion with the window it declared, which it carries as a tag.
func TestRemovalWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("window")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		d.Secrets = d.Secrets[:1]
		d.SpecHash = "spec-2"
		p := converge(t, s, d, provision.DiffOptions{})
		if diff := cmp.Diff([]string{"delete secret:" + stage + "/app/stripe", "update role_policy:shop-" + stage + "-web/secretboot-read"}, summary(p)); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		if days := p.Changes[0].Secret.RecoveryDays; days != 7 {
			t.Errorf("recovery window %d, want 7", days)
		}
		out, err := s.SecretsManager.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(stage + "/app/stripe")})
		if err != nil {
			t.Fatal(err)
		}
		if out.DeletedDate == nil {
			t.Fatal("not scheduled for deletion")
		}
	})
}

// rawSM is the session's SDK client, for the calls the engine never makes.
func rawSM(t *testing.T, s *provision.Session) *secretsmanager.Client {
	t.Helper()
	c, ok := s.SecretsManager.(*secretsmanager.Client)
	if !ok {
		t.Fatalf("the session's Secrets Manager client is a %T", s.SecretsManager)
	}
	return c
}

// rotate plays a rotation: RotateSecret, then what a rotation function
// does with the version id it is given (AWSPENDING, then AWSCURRENT).
func rotate(t *testing.T, s *provision.Session, name, value string) {
	t.Helper()
	ctx := context.Background()
	out, err := rawSM(t, s).RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:111111111111:function:rotate"),
		RotationRules:     &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}})
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	token := aws.ToString(out.VersionId)
	if _, err := s.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), ClientRequestToken: aws.String(token),
		SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	d, err := s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	current := ""
	for id, stages := range d.VersionIdsToStages {
		for _, st := range stages {
			if st == "AWSCURRENT" {
				current = id
			}
		}
	}
	if _, err := s.SecretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name),
		VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token), RemoveFromVersionId: aws.String(current)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SecretsManager.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(name),
		VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
}

// TestRotationOutsideTheSpec: apply does not undo a rotation configured
// outside the spec, and says so; value_owner decides who keeps the value.
// Moto cannot express it: its RotateSecret needs a Lambda function it can
// invoke, so this runs on the sandbox only.
func TestRotationOutsideTheSpec(t *testing.T) {
	t.Parallel()
	b := startBackend(t, "sandbox")
	s := b.mustConnect(t)
	stage := uniqueStage("rotation")
	d := testDesired(stage, b.account, canary)
	stripe := stage + "/app/stripe"
	converge(t, s, d, provision.DiffOptions{})
	rotate(t, s, stripe, "rotated-1")

	// Not declared: the rotator keeps the value, and the plan says so. The
	// secret gets its mark, which proves it is the stage's once rotations
	// have pushed out the versions secretboot wrote.
	p := converge(t, s, d, provision.DiffOptions{})
	if len(p.Changes) != 1 || p.Changes[0].Secret.Payload != nil || len(p.Changes[0].Secret.Tags) != 1 || p.Changes[0].Secret.Tags[0].Key != provision.TagMark ||
		!strings.Contains(strings.Join(p.Header.Warnings, "\n"), "secret "+stripe+": rotation enabled outside the spec: values are not restored") {
		t.Errorf("plan over a rotated secret:\n%s", textOf(t, p))
	}
	// Rotations push secretboot's versions out of the labels (and, after
	// about 100, out of the history): the mark proves ownership, without
	// reading the history.
	for range 3 {
		rotate(t, s, stripe, "rotated-1")
	}
	before := snapshot(b)
	if p := plan(t, s, d, provision.DiffOptions{}); !p.Empty() {
		t.Errorf("plan after more rotations:\n%s", textOf(t, p))
	}
	if n := snapshot(b)["secretsmanager.ListSecretVersionIds"] - before["secretsmanager.ListSecretVersionIds"]; n != 0 {
		t.Errorf("the marked secret's history was read %d times", n)
	}
	checkStripe(t, s, stripe, "rotated-1", 5)

	// value_owner = "rotation" says it: no note, and no regeneration.
	d.Secrets[1].ValueOwner = spec.ValueOwnerRotation
	d.SpecHash = "spec-2"
	if p := converge(t, s, d, provision.DiffOptions{}); !p.Empty() || len(p.Header.Warnings) != 0 {
		t.Errorf("plan with value_owner = rotation:\n%s", textOf(t, p))
	}

	// value_owner = "secretboot" restores the declaration, and says that
	// each rotation is undone.
	d.Secrets[1].ValueOwner = spec.ValueOwnerSecretboot
	d.SpecHash = "spec-3"
	p = converge(t, s, d, provision.DiffOptions{})
	if st, _ := payloadStatus(p, stripe); st != provision.PayloadRestoreStage || !strings.Contains(strings.Join(p.Header.Warnings, "\n"), "each rotation is undone") {
		t.Errorf("plan with value_owner = secretboot:\n%s", textOf(t, p))
	}
	checkStripe(t, s, stripe, canary, 5)

	// Rotation cancelled: secretboot owns the value again by default.
	rotate(t, s, stripe, "rotated-2")
	if _, err := rawSM(t, s).CancelRotateSecret(context.Background(), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(stripe)}); err != nil {
		t.Fatal(err)
	}
	d.Secrets[1].ValueOwner = ""
	d.SpecHash = "spec-4"
	p = converge(t, s, d, provision.DiffOptions{})
	if st, _ := payloadStatus(p, stripe); st != provision.PayloadRestoreStage || len(p.Header.Warnings) != 0 {
		t.Errorf("plan after CancelRotateSecret:\n%s", textOf(t, p))
	}
	checkStripe(t, s, stripe, canary, 6)
}
