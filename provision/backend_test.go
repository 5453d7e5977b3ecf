package provision_test

import (
	"context"
	"fmt"
	"github.com/secretboot/secretboot/internal/motoserver"
	"os"
	"testing"

	"github.com/secretboot/secretboot/provision"
)

// backend is an AWS emulator the end-to-end tests run against, through the
// real SDK clients.
type backend struct {
	name     string
	endpoint string
	account  string
	// calls returns the emulator's per-operation call counters
	// ("secretsmanager.PutSecretValue"); nil when it has none (moto).
	calls func() map[string]int
}

// connect opens a session on the backend, guarding the given account.
func (b *backend) connect(t testing.TB, account string) (*provision.Session, error) {
	t.Helper()
	return provision.Connect(context.Background(), provision.ConnectOptions{
		Stage: "test", Region: "us-east-1", AccountID: account,
		Endpoint:    b.endpoint,
		Credentials: provision.StaticCredentials("AKIASECRETBOOTADMIN0", "secretboot-sandbox-admin-secret-access-key", "", ""),
		MaxAttempts: 5,
	})
}

func (b *backend) mustConnect(t testing.TB) *provision.Session {
	t.Helper()
	s, err := b.connect(t, b.account)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return s
}

var motoURL string

func TestMain(m *testing.M) {
	stop, err := startMoto()
	if err != nil {
		fmt.Fprintln(os.Stderr, "moto unavailable:", err)
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// startMoto runs moto's server, shared by the tests (each test uses its
// own stage, so they do not meet).
func startMoto() (stop func(), err error) {
	motoURL, stop, err = motoserver.Start()
	return stop, err
}

// forEachBackend runs f against every available emulator: the moto server
// when python3 has moto (required when SECRETBOOT_REQUIRE_TOOLS=1), and
// the in-process sandbox. The calling test runs in parallel with others.
func forEachBackend(t *testing.T, f func(t *testing.T, b *backend)) {
	t.Helper()
	t.Parallel() // stages are unique per test, so tests do not meet on the shared moto server
	for _, name := range backendNames() {
		t.Run(name, func(t *testing.T) {
			b := startBackend(t, name)
			f(t, b)
		})
	}
}

func motoBackend(t *testing.T) *backend {
	t.Helper()
	if motoURL == "" {
		if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
			t.Fatal("moto is required (SECRETBOOT_REQUIRE_TOOLS=1) but `python3 -m moto.server` is not available")
		}
		t.Skip("moto is not available (python3 -m moto.server); set SECRETBOOT_REQUIRE_TOOLS=1 to make this a failure")
	}
	return &backend{name: "moto", endpoint: motoURL, account: "123456789012"}
}
