package fidelity_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"github.com/secretboot/secretboot/internal/motoserver"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/fidelity"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

func load(t *testing.T) []fidelity.Scenario {
	t.Helper()
	sc, err := fidelity.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runID keeps the names of one run apart from those of another run against
// the same endpoint.
func runID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// measure plays every scenario against cfg's endpoint and returns the
// failures by scenario; strict makes each failure a test error. region2 is
// a second region the endpoint serves ("" when there is none: the
// replication scenarios then diverge).
func measure(t *testing.T, label string, cfg aws.Config, region2 string, strict bool) {
	scs := load(t)
	callers := fidelity.Clients(cfg)
	id := runID(t)
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("%s: GetCallerIdentity: %v", label, err)
	}
	passed := 0
	for i, sc := range scs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := fidelity.Run(ctx, callers, sc, fidelity.Target{Name: fmt.Sprintf("fidelity/%s/s%d", id, i), Account: aws.ToString(who.Account), Region: cfg.Region, Region2: region2})
		cancel()
		switch {
		case err == nil:
			passed++
		case strict:
			t.Errorf("%s/%s: %s (%s): %v", sc.Service, sc.File, sc.Name, sc.Source, err)
		default:
			t.Logf("%s: diverges: %s/%s: %s: %v", label, sc.Service, sc.File, sc.Name, err)
		}
	}
	t.Logf("fidelity: %d/%d (%s)", passed, len(scs), label)
}

// TestSandbox: the embedded sandbox answers every scenario as AWS does.
func TestSandbox(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{Regions: []string{"us-west-2"}})
	measure(t, "sandbox", env.Config, "us-west-2", true)
}

// TestCorpusShape keeps the corpus meaningful: at least 150 scenarios,
// every service covered, none duplicated.
func TestCorpusShape(t *testing.T) {
	scs := load(t)
	if len(scs) < 150 {
		t.Errorf("%d scenarios, want at least 150", len(scs))
	}
	min := map[string]int{"secretsmanager": 90, "kms": 25, "iam": 20, "sts": 5}
	per := map[string]int{}
	seen := map[string]bool{}
	for _, sc := range scs {
		per[sc.Service]++
		if seen[sc.Service+"/"+sc.Name] {
			t.Errorf("scenario %s/%q appears twice", sc.Service, sc.Name)
		}
		seen[sc.Service+"/"+sc.Name] = true
	}
	for svc, n := range min {
		if per[svc] < n {
			t.Errorf("%d %s scenarios, want at least %d", per[svc], svc, n)
		}
	}
}

// TestMoto measures moto (python3 -m moto.server) against the corpus. Its
// count is reported, never required.
func TestMoto(t *testing.T) {
	if testing.Short() || os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		t.Skip("moto measurement (a count, never required) runs with SECRETBOOT_LONG_TESTS=1, as .ci/run sets it")
	}
	url, stop, err := motoserver.Start()
	if err != nil {
		t.Skipf("%v; moto's count is measured where it is installed", err)
	}
	t.Cleanup(stop)
	cfg := sandboxtest.Config(url, "us-east-1", credentials.NewStaticCredentialsProvider("testing", "testing", ""))
	measure(t, "moto", cfg, "us-west-2", false)
}

// TestEndpoint measures the endpoint that AWS_ENDPOINT_URL names, with the
// default credential chain (real AWS when it names an AWS endpoint). Set
// FIDELITY_ENDPOINT=1 to run it: it creates and force-deletes secrets;
// FIDELITY_REGION2 names a second region for the replication scenarios.
func TestEndpoint(t *testing.T) {
	if os.Getenv("FIDELITY_ENDPOINT") != "1" || os.Getenv("AWS_ENDPOINT_URL") == "" {
		t.Skip("set FIDELITY_ENDPOINT=1 and AWS_ENDPOINT_URL to measure an endpoint")
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	measure(t, os.Getenv("AWS_ENDPOINT_URL"), cfg, os.Getenv("FIDELITY_REGION2"), false)
}

// TestRunDetectsDivergence: the runner fails a scenario whose expectation
// the endpoint does not meet, so that a passing corpus means something.
func TestRunDetectsDivergence(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{})
	callers := fidelity.Clients(env.Config)
	create := fidelity.Step{Op: "CreateSecret", Input: []byte(`{"Name":"{{name}}","SecretString":"S1"}`), Save: map[string]string{"v1": "VersionId"}}
	tests := []struct {
		name string
		step fidelity.Step
	}{
		{"wrong error", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Error: "ValidationException"}}},
		{"error expected, success given", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Error: "ResourceNotFoundException"}}},
		{"wrong message", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"nope"}`), Want: fidelity.Expect{Error: "ResourceNotFoundException", Message: "no such secret"}}},
		{"wrong status", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"nope"}`), Want: fidelity.Expect{Error: "ResourceNotFoundException", Status: 404}}},
		{"wrong value", fidelity.Step{Op: "GetSecretValue", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Equal: map[string]json.RawMessage{"SecretString": []byte(`"S2"`)}}}},
		{"wrong length", fidelity.Step{Op: "ListSecretVersionIds", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Len: map[string]int{"Versions": 2}}}},
		{"present is absent", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Present: []string{"DeletedDate"}}}},
		{"absent is present", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{name}}"}`), Want: fidelity.Expect{Absent: []string{"VersionIdsToStages.{{v1}}"}}}},
		{"unset variable", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{nothing}}"}`)}},
		{"unknown input member", fidelity.Step{Op: "DescribeSecret", Input: []byte(`{"Secret":"{{name}}"}`)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := fidelity.Scenario{Name: tt.name, Source: "test", Steps: []fidelity.Step{create, tt.step}}
			if err := fidelity.Run(context.Background(), callers, sc, fidelity.Target{Name: fmt.Sprintf("diverge/%d", i), Account: "000000000000", Region: "us-east-1"}); err == nil {
				t.Error("Run passed a scenario the sandbox does not meet")
			}
		})
	}
}

// TestCleanupRunsAfterAFailure: a scenario's cleanup steps run even when a
// step fails, so that a diverging endpoint is left as it was; a step may
// call another service than its scenario's.
func TestCleanupRunsAfterAFailure(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Options{})
	sc := fidelity.Scenario{
		Name: "cleanup", Source: "test", Service: "secretsmanager",
		Steps: []fidelity.Step{
			{Service: "kms", Op: "CreateKey", Input: []byte(`{}`), Save: map[string]string{"k": "KeyMetadata.KeyId"}},
			{Op: "DescribeSecret", Input: []byte(`{"SecretId":"{{name}}"}`)}, // fails: no such secret
		},
		Cleanup: []fidelity.Step{{Service: "kms", Op: "ScheduleKeyDeletion", Input: []byte(`{"KeyId":"{{k}}","PendingWindowInDays":7}`)}},
	}
	if err := fidelity.Run(context.Background(), fidelity.Clients(env.Config), sc, fidelity.Target{Name: "cleanup", Account: "000000000000", Region: "us-east-1"}); err == nil {
		t.Fatal("Run passed a failing step")
	}
	keys, err := kms.NewFromConfig(env.Config).ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Fatalf("ListKeys = %v, %v", keys, err)
	}
	d, err := kms.NewFromConfig(env.Config).DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: keys.Keys[0].KeyId})
	if err != nil || d.KeyMetadata.KeyState != "PendingDeletion" {
		t.Errorf("after the cleanup the key is %v (%v), want PendingDeletion", d, err)
	}
}
