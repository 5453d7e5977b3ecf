package leaktest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const (
	account = "000000000000" // the sandbox's default account, pinned by the specs
	region  = "us-east-1"
)

// replicaRegions are served besides region: the main spec replicates
// secrets there.
var replicaRegions = []string{"us-west-2"}

// withStateSandbox serves the sandbox state in dir in this process while
// fn runs, with admin credentials: to plant resources before a command and
// to read back what the CLI wrote (generated values, the stage key). The
// state is saved when fn returns.
func withStateSandbox(t *testing.T, dir string, fn func(sm *secretsmanager.Client)) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Account: account, Region: region, Regions: replicaRegions, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	id, secret := sb.AdminCredentials()
	cfg := sandboxtest.Config(ts.URL, region, credentials.NewStaticCredentialsProvider(id, secret, ""))
	fn(secretsmanager.NewFromConfig(cfg))
	ts.Close()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
}

// readBack returns the current payload of a secret: SecretString, or
// SecretBinary.
func readBack(t *testing.T, sm *secretsmanager.Client, name string) []byte {
	t.Helper()
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatalf("reading back %s: %v", name, err)
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString)
	}
	return out.SecretBinary
}

// jsonField returns one string field of a JSON object payload.
func jsonField(t *testing.T, payload []byte, field string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("payload is not a JSON object: %v", err)
	}
	s, ok := m[field].(string)
	if !ok {
		t.Fatalf("payload has no string field %q", field)
	}
	return []byte(s)
}
