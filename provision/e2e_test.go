package provision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// canary is a payload that must appear in no plan, rendering, saved plan or
// error.
const canary = "CANARY-7f3a9e-do-not-leak"

var stageSeq atomic.Int64

// uniqueStage keeps tests that share the moto server apart.
func uniqueStage(base string) string { return fmt.Sprintf("%s%d", base, stageSeq.Add(1)) }

func testDesired(stage, account, payload string) *spec.Desired {
	return &spec.Desired{
		Project: "shop", Stage: stage, Region: "us-east-1", AccountID: account,
		NamePrefix: stage + "/", RolePrefix: "shop-" + stage + "-",
		Roles: []*spec.Role{{Key: "web", Name: "shop-" + stage + "-web", Description: "web tier", Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true}},
		Secrets: []*spec.Secret{
			{
				Key: "app/db", Name: stage + "/app/db", Description: "primary database",
				Readers: []spec.Reader{{Role: "web"}}, RecoveryWindowDays: 7,
				Payload: dbPayload("db.internal"),
			},
			{
				Key: "app/stripe", Name: stage + "/app/stripe",
				Readers: []spec.Reader{{Role: "web", Describe: true}}, RecoveryWindowDays: 7,
				Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(payload)},
			},
		},
		SpecHash: "spec-1",
	}
}

func dbPayload(host string) spec.Payload {
	return spec.Payload{
		Kind: spec.KindObject, Declared: spec.SealString(`{"host":"` + host + `","username":"app"}`),
		Fields:     []string{"host", "password", "username"},
		Generators: []spec.Generator{{Field: "password", Length: 24, Upper: true, Lower: true, Numeric: true}},
	}
}

// plan observes and diffs, and checks every rendering of the plan for the
// canary.
func plan(t *testing.T, s *provision.Session, d *spec.Desired, opts provision.DiffOptions) *provision.Plan {
	t.Helper()
	o, err := provision.Observe(context.Background(), s, d)
	if err != nil {
		noCanary(t, "observe error", err.Error())
		t.Fatalf("observe: %v", err)
	}
	p, err := provision.Diff(d, o, opts)
	if err != nil {
		noCanary(t, "diff error", err.Error())
		t.Fatalf("diff: %v", err)
	}
	checkRenderings(t, p)
	return p
}

func checkRenderings(t *testing.T, p *provision.Plan) {
	t.Helper()
	var b bytes.Buffer
	for _, f := range []func() error{
		func() error { return views.Text(&b, p, views.Colors{On: true}) },
		func() error { return views.JSON(&b, p) },
		func() error { return views.Markdown(&b, p) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	noCanary(t, "plan rendering", b.String())
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := provision.WritePlanFile(path, p); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	noCanary(t, "saved plan", string(saved))
}

func noCanary(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, canary) {
		t.Fatalf("%s contains the canary payload", what)
	}
}

func apply(t *testing.T, s *provision.Session, p *provision.Plan, d *spec.Desired) *provision.ApplyResult {
	t.Helper()
	res, err := provision.Apply(context.Background(), s, p, d, provision.ApplyOptions{PropagationTimeout: 10e9})
	if err != nil {
		noCanary(t, "apply error", err.Error())
		t.Fatalf("apply: %v", err)
	}
	return res
}

// converge plans and applies, then checks that the next plan is empty.
func converge(t *testing.T, s *provision.Session, d *spec.Desired, opts provision.DiffOptions) *provision.Plan {
	t.Helper()
	p := plan(t, s, d, opts)
	apply(t, s, p, d)
	if p2 := plan(t, s, d, provision.DiffOptions{}); !p2.Empty() {
		t.Fatalf("plan after apply is not empty:\n%s", textOf(t, p2))
	}
	return p
}

func textOf(t *testing.T, p *provision.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := views.Text(&b, p, views.Colors{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// summary is a compact view of a plan for comparisons: "action id [status]".
func summary(p *provision.Plan) []string {
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

// mutating counts the calls that change state since the snapshot before.
func mutating(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range after {
		name := op[strings.Index(op, ".")+1:]
		if strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "BatchGet") || strings.HasPrefix(name, "Simulate") {
			continue
		}
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

func snapshot(b *backend) map[string]int {
	if b.calls == nil {
		return nil
	}
	return b.calls()
}

func secretValue(t *testing.T, s *provision.Session, name string) string {
	t.Helper()
	out, err := s.SecretsManager.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return aws.ToString(out.SecretString)
}

func TestFirstApplyThenNoChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("first")
		d := testDesired(stage, b.account, canary)
		p := converge(t, s, d, provision.DiffOptions{})
		want := []string{
			"create stage_key:" + stage + "/.secretboot/stage-key",
			"create role:shop-" + stage + "-web",
			"create secret:" + stage + "/app/db [new]",
			"create secret:" + stage + "/app/stripe [new]",
			"create role_policy:shop-" + stage + "-web/secretboot-read",
			"create instance_profile:shop-" + stage + "-web",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("first plan (-want +got):\n%s", diff)
		}
		if got := secretValue(t, s, stage+"/app/stripe"); got != canary {
			t.Errorf("stripe value is not the declared payload")
		}
		var db map[string]string
		if err := json.Unmarshal([]byte(secretValue(t, s, stage+"/app/db")), &db); err != nil || db["host"] != "db.internal" || len(db["password"]) != 24 {
			t.Errorf("db value has not the declared and generated fields (err %v)", err)
		}

		// The second apply re-observes and changes nothing.
		before := snapshot(b)
		p2 := plan(t, s, d, provision.DiffOptions{})
		res := apply(t, s, p2, d)
		if len(res.Done) != 0 {
			t.Errorf("second apply did %v", res.Done)
		}
		if b.calls != nil {
			if m := mutating(before, snapshot(b)); len(m) != 0 {
				t.Errorf("second plan+apply made mutating calls: %v", m)
			}
		}

		outputs, err := provision.Observe(context.Background(), s, d)
		if err != nil {
			t.Fatal(err)
		}
		o := provision.OutputsOf(d, outputs)
		if len(o.SecretARNs) != 2 || o.RoleARNs["web"] == "" || o.InstanceProfiles["web"] != "shop-"+stage+"-web" {
			t.Errorf("outputs incomplete: %+v", o)
		}
	})
}

func TestPayloadChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("pay")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		var first map[string]string
		_ = json.Unmarshal([]byte(secretValue(t, s, stage+"/app/db")), &first)

		// A changed declared payload is "changed in spec" and written once.
		d.Secrets[1].Payload.Declared = spec.SealString(canary + "-v2")
		d.Secrets[0].Payload = dbPayload("db2.internal")
		d.SpecHash = "spec-2"
		before := snapshot(b)
		p := converge(t, s, d, provision.DiffOptions{})
		want := []string{
			"update secret:" + stage + "/app/db [changed-in-spec]",
			"update secret:" + stage + "/app/stripe [changed-in-spec]",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		if !p.Changes[0].Secret.Payload.ReadsLive {
			t.Error("db write does not keep its generated password")
		}
		if b.calls != nil {
			if diff := cmp.Diff(map[string]int{"secretsmanager.PutSecretValue": 2}, mutating(before, snapshot(b))); diff != "" {
				t.Errorf("mutating calls (-want +got):\n%s", diff)
			}
		}
		var second map[string]string
		_ = json.Unmarshal([]byte(secretValue(t, s, stage+"/app/db")), &second)
		if second["host"] != "db2.internal" || second["password"] != first["password"] {
			t.Error("the generated password was not kept across a change of declared fields")
		}

		// Regenerating one field replaces it and keeps the rest.
		p = converge(t, s, d, provision.DiffOptions{Regenerate: []string{"app/db.password"}})
		if diff := cmp.Diff([]string{"update secret:" + stage + "/app/db [changed-in-spec]"}, summary(p)); diff != "" {
			t.Errorf("regenerate plan (-want +got):\n%s", diff)
		}
		var third map[string]string
		_ = json.Unmarshal([]byte(secretValue(t, s, stage+"/app/db")), &third)
		if third["password"] == second["password"] || third["host"] != "db2.internal" || len(third["password"]) != 24 {
			t.Error("regenerate did not replace exactly the password")
		}
	})
}

func TestDriftRestored(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("drift")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		name := stage + "/app/stripe"
		if _, err := s.SecretsManager.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), SecretString: aws.String("written by hand"),
		}); err != nil {
			t.Fatal(err)
		}
		p := converge(t, s, d, provision.DiffOptions{})
		if diff := cmp.Diff([]string{"update secret:" + name + " [restore-stage]"}, summary(p)); diff != "" {
			t.Errorf("drift plan (-want +got):\n%s", diff)
		}
		if secretValue(t, s, name) != canary {
			t.Error("the declared value was not restored")
		}
	})
}

func TestDeleteAndRestore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("del")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		stripe := d.Secrets[1]

		d.Secrets = d.Secrets[:1]
		d.SpecHash = "spec-2"
		p := converge(t, s, d, provision.DiffOptions{})
		want := []string{
			"delete secret:" + stage + "/app/stripe",
			"update role_policy:shop-" + stage + "-web/secretboot-read",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("removal plan (-want +got):\n%s", diff)
		}
		if p.Changes[0].Secret.RecoveryDays != 7 {
			t.Errorf("recovery window %d, want the declared 7 (recorded on the secret)", p.Changes[0].Secret.RecoveryDays)
		}

		d.Secrets = append(d.Secrets, stripe)
		d.SpecHash = "spec-3"
		p = converge(t, s, d, provision.DiffOptions{})
		want = []string{
			"restore secret:" + stage + "/app/stripe",
			"update role_policy:shop-" + stage + "-web/secretboot-read",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("re-add plan (-want +got):\n%s", diff)
		}
		if secretValue(t, s, stage+"/app/stripe") != canary {
			t.Error("restored secret lost its value")
		}
	})
}

func TestUnownedClashAndImport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		s := b.mustConnect(t)
		stage := uniqueStage("clash")
		d := testDesired(stage, b.account, canary)
		name := stage + "/app/stripe"
		if _, err := s.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("pre-existing")}); err != nil {
			t.Fatal(err)
		}
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provision.Diff(d, o, provision.DiffOptions{})
		var clash *provision.ClashError
		if !errors.As(err, &clash) || !strings.Contains(err.Error(), "secretboot import "+name) {
			t.Fatalf("want a clash error pointing at import, got %v", err)
		}
		if diff := cmp.Diff([]string{name}, clash.Secrets); diff != "" {
			t.Errorf("clashing secrets (-want +got):\n%s", diff)
		}
		adopted, err := provision.Import(ctx, s, d, []string{"app/stripe"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{name}, adopted); diff != "" {
			t.Errorf("adopted (-want +got):\n%s", diff)
		}
		converge(t, s, d, provision.DiffOptions{})
		if secretValue(t, s, name) != canary {
			t.Error("the adopted secret did not get its declared value")
		}
	})
}

func TestWrongAccountRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		before := snapshot(b)
		_, err := b.connect(t, "999999999999")
		var wrong *provision.WrongAccountError
		if !errors.As(err, &wrong) || wrong.Got != b.account {
			t.Fatalf("want WrongAccountError, got %v", err)
		}
		if b.calls != nil {
			after := snapshot(b)
			delta := map[string]int{}
			for op, n := range after {
				if n-before[op] > 0 {
					delta[op] = n - before[op]
				}
			}
			if diff := cmp.Diff(map[string]int{"sts.GetCallerIdentity": 1}, delta); diff != "" {
				t.Errorf("calls made (-want +got):\n%s", diff)
			}
		}
	})
}

func TestStaleSavedPlanRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		s := b.mustConnect(t)
		stage := uniqueStage("stale")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})

		d.Secrets[1].Payload.Declared = spec.SealString(canary + "-v2")
		d.SpecHash = "spec-2"
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := provision.WritePlanFile(path, plan(t, s, d, provision.DiffOptions{})); err != nil {
			t.Fatal(err)
		}
		saved, err := provision.ReadPlanFile(path)
		if err != nil {
			t.Fatal(err)
		}

		// AWS changes behind the saved plan's back.
		if _, err := s.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(stage + "/app/db"), SecretString: aws.String(`{"x":"y"}`)}); err != nil {
			t.Fatal(err)
		}
		_, err = provision.Apply(ctx, s, saved, d, provision.ApplyOptions{})
		var stale *provision.StalePlanError
		if !errors.As(err, &stale) || !strings.Contains(err.Error(), "AWS changed") {
			t.Fatalf("want a stale-plan error about AWS, got %v", err)
		}

		// So does the spec.
		d2 := testDesired(stage, b.account, canary+"-v3")
		d2.SpecHash = "spec-3"
		_, err = provision.Apply(ctx, s, saved, d2, provision.ApplyOptions{})
		if !errors.As(err, &stale) || !strings.Contains(err.Error(), "spec changed") {
			t.Fatalf("want a stale-plan error about the spec, got %v", err)
		}
		noCanary(t, "stale error", err.Error())
	})
}

func TestDestroy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		s := b.mustConnect(t)
		stage := uniqueStage("destroy")
		d := testDesired(stage, b.account, canary)
		converge(t, s, d, provision.DiffOptions{})
		p := plan(t, s, d, provision.DiffOptions{Destroy: true})
		apply(t, s, p, d)
		want := []string{
			"delete stage_key:" + stage + "/.secretboot/stage-key",
			"delete secret:" + stage + "/app/db",
			"delete secret:" + stage + "/app/stripe",
			"delete role_policy:shop-" + stage + "-web/secretboot-read",
			"delete instance_profile:shop-" + stage + "-web",
			"delete role:shop-" + stage + "-web",
		}
		if diff := cmp.Diff(want, summary(p)); diff != "" {
			t.Errorf("destroy plan (-want +got):\n%s", diff)
		}
		if p2 := plan(t, s, d, provision.DiffOptions{Destroy: true}); !p2.Empty() {
			t.Errorf("destroy is not complete:\n%s", textOf(t, p2))
		}
		// Bringing the stage back restores the secrets and the stage key.
		p3 := converge(t, s, d, provision.DiffOptions{})
		if p3.Summary.Add != 3 || p3.Summary.Change != 3 { // restores are changes
			t.Errorf("re-create plan:\n%s", textOf(t, p3))
		}
	})
}

// TestUnownedInstanceProfileRefusedAtPlan: an instance profile outside the
// stage's path with the name a role needs is refused by plan, so apply never
// creates the role and then fails on the profile.
func TestUnownedInstanceProfileRefusedAtPlan(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		s := b.mustConnect(t)
		d := testDesired(uniqueStage("ipclash"), b.account, canary)
		name := d.Roles[0].Name
		if _, err := s.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String("/teams/")}); err != nil {
			t.Fatal(err)
		}
		o, err := provision.Observe(ctx, s, d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = provision.Diff(d, o, provision.DiffOptions{})
		var clash *provision.ClashError
		if !errors.As(err, &clash) || !strings.Contains(err.Error(), "instance profile "+name+" exists outside secretboot's path") {
			t.Fatalf("want a clash error naming the instance profile, got %v", err)
		}
		noCanary(t, "clash error", err.Error())
	})
}
