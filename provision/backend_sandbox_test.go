package provision_test

import (
	"testing"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

const sandboxAccount = "111111111111"

func backendNames() []string { return []string{"sandbox", "moto"} }

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	if name == "moto" {
		return motoBackend(t)
	}
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	return sandboxBackend(env)
}

func sandboxBackend(env *sandboxtest.Env) *backend {
	return &backend{
		name: "sandbox", endpoint: env.URL, account: sandboxAccount,
		calls: func() map[string]int { return env.Server.Stats().Calls },
	}
}
