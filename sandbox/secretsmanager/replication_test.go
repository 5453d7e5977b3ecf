package secretsmanager

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/golden"
)

// TestReplicationWireGolden pins the bytes of the replication operations
// across three regions: replicas created with the secret, what a replica
// shows and refuses, a rotation on the primary reaching the replicas,
// ListSecrets' PrimaryRegion, removal and promotion.
func TestReplicationWireGolden(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	s := New(Config{
		Account: "000000000000", Region: "us-east-1", Regions: []string{"us-west-2", "eu-west-1"},
		Now:  func() time.Time { return now },
		Rand: rand.NewChaCha8([32]byte{2}),
	})
	rotator := TestRotatorARN("us-east-1", "000000000000")
	steps := []struct{ region, op, body string }{
		{"us-east-1", "CreateSecret", `{"Name":"dev/db","SecretString":"{\"password\":\"p1\"}","ClientRequestToken":"11111111-1111-4111-8111-111111111111",` +
			`"Description":"db","Tags":[{"Key":"team","Value":"shop"}],"AddReplicaRegions":[{"Region":"us-west-2"},{"Region":"eu-west-1","KmsKeyId":"alias/eu"}]}`},
		{"us-west-2", "GetSecretValue", `{"SecretId":"dev/db"}`},
		{"us-west-2", "DescribeSecret", `{"SecretId":"dev/db"}`},
		{"us-east-1", "DescribeSecret", `{"SecretId":"dev/db"}`},
		{"us-west-2", "PutSecretValue", `{"SecretId":"dev/db","SecretString":"x","ClientRequestToken":"22222222-2222-4222-8222-222222222222"}`},
		{"us-west-2", "RotateSecret", `{"SecretId":"dev/db","ClientRequestToken":"22222222-2222-4222-8222-222222222222"}`},
		{"us-east-1", "ReplicateSecretToRegions", `{"SecretId":"dev/db","AddReplicaRegions":[{"Region":"us-west-2"}]}`},
		{"us-east-1", "ReplicateSecretToRegions", `{"SecretId":"dev/db","AddReplicaRegions":[{"Region":"ap-south-1"}]}`},
		{"us-east-1", "RotateSecret", `{"SecretId":"dev/db","ClientRequestToken":"33333333-3333-4333-8333-333333333333","RotationLambdaARN":"` + rotator + `","RotationRules":{"AutomaticallyAfterDays":7}}`},
		{"eu-west-1", "GetSecretValue", `{"SecretId":"dev/db"}`},
		{"eu-west-1", "ListSecrets", `{}`},
		{"us-east-1", "DeleteSecret", `{"SecretId":"dev/db"}`},
		{"us-east-1", "RemoveRegionsFromReplication", `{"SecretId":"dev/db","RemoveReplicaRegions":["ap-south-1"]}`},
		{"us-east-1", "RemoveRegionsFromReplication", `{"SecretId":"dev/db","RemoveReplicaRegions":["us-west-2"]}`},
		{"us-west-2", "DescribeSecret", `{"SecretId":"dev/db"}`},
		{"us-east-1", "StopReplicationToReplica", `{"SecretId":"dev/db"}`},
		{"eu-west-1", "StopReplicationToReplica", `{"SecretId":"dev/db"}`},
		{"eu-west-1", "DescribeSecret", `{"SecretId":"dev/db"}`},
		{"us-east-1", "ListSecrets", `{"Filters":[{"Key":"primary-region","Values":["us-east-1"]}]}`},
	}
	var got bytes.Buffer
	for _, st := range steps {
		w := httptest.NewRecorder()
		s.Region(st.region).Serve(w, st.op, []byte(st.body), nil, nil, "req")
		fmt.Fprintf(&got, "> %s %s %s\n< %d %s\n\n", st.region, st.op, st.body, w.Code, w.Body)
	}
	golden.Check(t, filepath.Join("testdata", "replication.golden"), got.Bytes())
}

// TestReplicationRestore: a snapshot restores each secret into its ARN's
// region, replicas and their primaries' status included, serving the
// region if it was not.
func TestReplicationRestore(t *testing.T) {
	cfg := Config{Account: "000000000000", Region: "us-east-1", Regions: []string{"us-west-2"}}
	a := New(cfg)
	w := httptest.NewRecorder()
	a.Serve(w, "CreateSecret", []byte(`{"Name":"dev/db","SecretString":"v","ClientRequestToken":"11111111-1111-4111-8111-111111111111","AddReplicaRegions":[{"Region":"us-west-2"}]}`), nil, nil, "req")
	if w.Code != 200 {
		t.Fatal(w.Body)
	}
	if err := a.FailReplica("us-west-2", "dev/db"); err != nil {
		t.Fatal(err)
	}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := New(cfg)
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	b.Serve(w, "DescribeSecret", []byte(`{"SecretId":"dev/db"}`), nil, nil, "req")
	if !strings.Contains(w.Body.String(), `"Status":"Failed"`) {
		t.Errorf("restored primary: %s", w.Body)
	}
	w = httptest.NewRecorder()
	b.Region("us-west-2").Serve(w, "GetSecretValue", []byte(`{"SecretId":"dev/db"}`), nil, nil, "req")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `:us-west-2:`) {
		t.Errorf("restored replica: %d %s", w.Code, w.Body)
	}
	c := New(Config{Account: "000000000000", Region: "us-east-1"})
	if err := c.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if c.Region("us-west-2") == nil {
		t.Error("restoring a state with replicas in us-west-2 into a Service without it does not serve us-west-2")
	}
	for _, tc := range []struct{ region, id, want string }{
		{"ap-south-1", "dev/db", "does not serve"},
		{"us-west-2", "dev/none", "no replica"},
		{"us-east-1", "dev/db", "no replica"},
	} {
		if err := b.FailReplica(tc.region, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FailReplica(%s, %s) = %v, want %q", tc.region, tc.id, err, tc.want)
		}
	}
}

// TestReplicaFollowsScheduledRotation: a rotation that comes due (at the
// start of a request in any region) and one RotateNow runs reach the
// replica.
func TestReplicaFollowsScheduledRotation(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := New(Config{Account: "000000000000", Region: "us-east-1", Regions: []string{"us-west-2"}, Now: func() time.Time { return now }})
	call := func(region, op, body string) string {
		t.Helper()
		w := httptest.NewRecorder()
		s.Region(region).Serve(w, op, []byte(body), nil, nil, "req")
		if w.Code != 200 {
			t.Fatalf("%s %s: %d %s", region, op, w.Code, w.Body)
		}
		return w.Body.String()
	}
	call("us-east-1", "CreateSecret", `{"Name":"dev/db","SecretString":"first-value","ClientRequestToken":"11111111-1111-4111-8111-111111111111","AddReplicaRegions":[{"Region":"us-west-2"}]}`)
	call("us-east-1", "RotateSecret", `{"SecretId":"dev/db","ClientRequestToken":"22222222-2222-4222-8222-222222222222","RotateImmediately":false,`+
		`"RotationLambdaARN":"`+TestRotatorARN("us-east-1", "000000000000")+`","RotationRules":{"AutomaticallyAfterDays":1}}`)
	if out := call("us-west-2", "GetSecretValue", `{"SecretId":"dev/db"}`); !strings.Contains(out, "first-value") {
		t.Fatalf("replica before the rotation: %s", out)
	}
	now = now.Add(24 * time.Hour)
	if out := call("us-west-2", "GetSecretValue", `{"SecretId":"dev/db"}`); strings.Contains(out, "first-value") {
		t.Errorf("the replica missed the scheduled rotation: %s", out)
	}
	before := call("us-west-2", "GetSecretValue", `{"SecretId":"dev/db"}`)
	if err := s.RotateNow("dev/db"); err != nil {
		t.Fatal(err)
	}
	if out := call("us-west-2", "GetSecretValue", `{"SecretId":"dev/db"}`); out == before {
		t.Errorf("the replica missed RotateNow's rotation: %s", out)
	}
	if err := s.Region("us-west-2").RotateNow("dev/db"); err == nil {
		t.Error("RotateNow rotated a replica")
	}
}
