package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSandboxDropsReplicaRegion: with --sandbox, a spec that drops its
// replicas still restores the saved state with the replica (the sandbox
// serves the regions its state has) and removes the replica.
func TestSandboxDropsReplicaRegion(t *testing.T) {
	dir := t.TempDir()
	spec := func(replicas string) {
		t.Helper()
		src := `project = "shop"
stage "dev" {
  region     = "us-east-1"
  account_id = "111111111111"
  replicas   = ` + replicas + `
}
role "web" {}
secret "app/token" {
  readers = [role.web]
  generate {}
}
`
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cli := func(want string, args ...string) {
		t.Helper()
		out := runCLI(t, append(args, "--spec", dir, "--sandbox")...)
		if !strings.Contains(string(out), want) {
			t.Fatalf("%q: want output containing %q:\n%s", args, want, out)
		}
	}
	spec(`{ "us-west-2" = {} }`)
	cli("us-west-2    add replica", "apply", "-auto-approve")
	spec(`{}`)
	cli("us-west-2    remove replica", "apply", "-auto-approve")
	cli("No changes", "plan")
}
