package leaktest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// hclString quotes s as an HCL string literal.
func hclString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// The customer managed keys of the main spec: app/db is encrypted under
// mainKey and its replica under replicaKey, so that apply, plan, audit
// and verify go through key policies and per-key grants. The embedded
// sandbox creates them from the spec, `sandbox serve` from --kms-key.
const (
	mainKey    = "arn:aws:kms:us-east-1:000000000000:key/6c0f1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	replicaKey = "arn:aws:kms:us-west-2:000000000000:key/9d8c7b6a-5f4e-4d3c-9b2a-1f0e9d8c7b6a"
)

// mainSpec declares one secret per payload source. roles.hcl is written
// unformatted so that fmt has something to rewrite.
func mainSpec(literal string) (mainHCL, rolesHCL string) {
	mainHCL = `project = "leak"

stage "dev" {
  region          = "us-east-1"
  account_id      = "000000000000"
  resource_policy = true
  deployer_arn    = "arn:aws:iam::000000000000:user/sandbox-admin" # the caller: plan refuses to lock it out
  break_glass     = ["arn:aws:iam::000000000000:role/break-glass"]
}

variable "desc" {
  type    = string
  default = "v1"
}

secret "app/env" {
  description = "from the environment, ${var.desc}"
  readers     = [role.web]
  value       = env("LEAK_ENV")
}

secret "app/db" {
  readers     = [role.web, role.worker]
  describe    = true
  kms_key_arn = "` + mainKey + `"
  replicas    = { "us-west-2" = { kms_key_arn = "` + replicaKey + `" } }
  value = {
    username = "app"
    api_key  = env("LEAK_FIELD")
  }
  generate "password" {
    length = 40
  }
}

secret "app/file" {
  readers = [role.worker]
  value   = file("payload.txt")
}

secret "app/cert" {
  readers = [role.web]
  binary  = filebase64("payload.bin")
}

secret "app/literal-token" {
  readers       = [role.web]
  allow_literal = true
  value         = ` + hclString(literal) + `
}

secret "app/generated" {
  readers = [role.worker]
  generate {}
}

secret "app/derived" {
  readers = [role.web]
  value   = jsonencode({ nested = { token = upper(env("LEAK_DERIVED")) } })
}

secret "app/imported" {
  readers = [role.web]
  value   = env("LEAK_IMPORT")
}

secret "app/rotated" {
  readers = [role.web]
  value = {
    username = "app"
    api_key  = env("LEAK_FIELD")
  }
  generate "password" {}
  replicas = { "us-west-2" = {} }
  rotation {
    lambda_arn         = "arn:aws:lambda:us-east-1:000000000000:function:secretboot-sandbox-rotator"
    schedule           = "rate(30 days)"
    window             = "4h"
    rotate_immediately = true
    rotator            = role.rotator
  }
}
`
	rolesHCL = `role "web" {
  description    = "web tier"
}

role "worker" {
  description="background jobs"
}

role "rotator" {
  service = ["lambda.amazonaws.com"]
}
`
	return mainHCL, rolesHCL
}

// sensitiveOps are the Secrets Manager operations whose bodies carry
// payloads (or the stage key): --debug must show them as (redacted).
var sensitiveOps = []string{"CreateSecret", "PutSecretValue", "UpdateSecret", "GetSecretValue", "BatchGetSecretValue"}

var (
	exchangeRe = regexp.MustCompile(`msg="http exchange[^"]*".*\boperation=(\w+)`)
	redactedRe = regexp.MustCompile(`\b(request|response)_body=("\(redacted\)"|\(redacted\))`)
)

// checkDebugLog checks one --debug log and returns the operations it shows.
// Every exchange of a payload-carrying operation must have both bodies
// redacted.
func checkDebugLog(t *testing.T, label string, log []byte) map[string]bool {
	t.Helper()
	ops := map[string]bool{}
	if !bytes.Contains(log, []byte(`msg="aws operation"`)) {
		t.Errorf("`%s`: the debug log shows no operation:\n%s", label, log)
	}
	for _, line := range strings.Split(string(log), "\n") {
		m := exchangeRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ops[m[1]] = true
		for _, op := range sensitiveOps {
			if m[1] != op {
				continue
			}
			want := 2
			if strings.Contains(line, `msg="http exchange failed"`) {
				want = 1 // no response
			}
			if got := len(redactedRe.FindAllString(line, -1)); got != want {
				t.Errorf("`%s`: %s body not redacted: %s", label, op, line)
			}
		}
	}
	return ops
}

// mainWorkspace writes the main spec with a fresh canary for every payload
// source, and a foreign canary (a value secretboot never wrote) for tests
// that plant one.
func mainWorkspace(t *testing.T) (*workspace, *scanner) {
	t.Helper()
	s := newScanner()
	w := newWorkspace(t, s)
	env, field, derived, imported := newCanary("env"), newCanary("env-field"), newCanary("env-derived"), newCanary("env-imported")
	file, literal, initEnv := newCanary("file"), newCanary("literal"), newCanary("env-init")
	binary := canary{source: "filebase64", value: append(newCanary("filebase64").value, 0x00, 0xff, 0xfe, 0x80, '\n', 0x01)}
	s.add(env, field, derived, imported, file, literal, initEnv, binary,
		canary{"env-derived-upper", bytes.ToUpper(derived.value)})

	mainHCL, rolesHCL := mainSpec(string(literal.value))
	w.write("main.hcl", []byte(mainHCL))
	w.draft("roles.hcl", []byte(rolesHCL))
	w.write("payload.txt", file.value)
	w.write("payload.bin", binary.value)
	w.setenv("LEAK_ENV="+string(env.value), "LEAK_FIELD="+string(field.value), "LEAK_DERIVED="+string(derived.value),
		"LEAK_IMPORT="+string(imported.value), "EXAMPLE_API_KEY="+string(initEnv.value))
	return w, s
}

// readGenerated reads the generated values and the stage key back from the
// sandbox state in dir and adds them as canaries.
func readGenerated(t *testing.T, s *scanner, sm *secretsmanager.Client, suffix string) {
	t.Helper()
	s.add(canary{"generated-field" + suffix, jsonField(t, readBack(t, sm, "dev/app/db"), "password")},
		canary{"generated" + suffix, readBack(t, sm, "dev/app/generated")},
		canary{"rotated" + suffix, jsonField(t, readBack(t, sm, "dev/app/rotated"), "password")},
		canary{"stage-key", readBack(t, sm, "dev/.secretboot/stage-key")})
}

// TestNoLeakCommands runs every command against the embedded sandbox with
// canaries from every payload source and scans every byte written.
func TestNoLeakCommands(t *testing.T) {
	w, s := mainWorkspace(t)
	sb := []string{"--spec", "spec", "--sandbox"}
	cmd := func(args ...string) []string { return append(append([]string(nil), args...), sb...) }

	// Commands that do not reach AWS.
	w.run(0, "version")
	w.run(0, "version", "-json")
	w.run(0, "--version")
	w.run(0, "init", "scaffold")
	w.run(0, "init", "--spec", "scaffold2")
	w.run(0, "validate", "--spec", "scaffold")
	if gi, err := os.ReadFile(filepath.Join(w.root, "scaffold", ".gitignore")); err != nil || !regexp.MustCompile(`(?m)^\.secretboot/$`).Match(gi) {
		t.Errorf("init's .gitignore does not ignore .secretboot/ (%v):\n%s", err, gi)
	}
	w.run(1, "fmt", "-check", "--spec", "spec")
	w.run(0, "fmt", "-diff", "--spec", "spec")
	w.run(0, "fmt", "-check", "--spec", "spec")
	w.run(0, "validate", "--spec", "spec")
	w.run(0, "validate", "--stage", "dev", "--spec", "spec")
	w.run(0, "validate", "-json", "--spec", "spec")
	w.run(0, "validate", "-all-stages", "--spec", "spec")
	w.run(0, "stages", "--spec", "spec")
	w.run(0, "stages", "-json", "--spec", "spec")

	foreign := newCanary("foreign")
	s.add(foreign)

	// A secret someone else made under a declared name, with a value of its
	// own: plan refuses to touch it, import adopts it without reading it.
	withStateSandbox(t, w.stateDir(), func(sm *secretsmanager.Client) {
		_, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String("dev/app/imported"), SecretString: aws.String(string(foreign.value)),
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	w.run(1, cmd("plan")...)
	w.run(0, cmd("--debug", "import", "--stage", "dev", "--var", "desc=v1", "--parallelism", "3", "app/imported")...)

	// Plan in every rendering, save it, apply it with --debug.
	w.run(0, cmd("plan")...)
	w.run(0, cmd("plan", "-json")...)
	w.run(0, cmd("plan", "-markdown")...)
	w.run(0, cmd("plan", "-markdown", "-markdown-limit", "2000")...)
	w.run(2, cmd("plan", "-detailed-exitcode")...)
	// New readers broaden access.
	w.run(3, cmd("plan", "-fail-on-broadening")...)
	w.run(0, cmd("plan", "-out", "out/plan.bin")...)
	w.checkMode(filepath.Join(w.root, "out", "plan.bin"), 0o644)
	debugOps := map[string]bool{}
	r := w.run(0, cmd("--debug", "apply", "--iam-write-rate", "50", "out/plan.bin")...)
	for op := range checkDebugLog(t, r.label, r.stderr) {
		debugOps[op] = true
	}

	// Generated values and the stage key exist only now: read them back
	// and scan every output so far for them as well.
	withStateSandbox(t, w.stateDir(), func(sm *secretsmanager.Client) {
		readGenerated(t, s, sm, "")
		checkKeys(t, sm, "dev/app/db")
	})

	w.run(0, cmd("plan")...)
	w.run(0, cmd("plan", "-detailed-exitcode", "-fail-on-broadening")...)
	w.run(0, cmd("plan", "--stage", "dev", "--parallelism", "3", "--regenerate", "app/db.password")...)
	w.run(0, cmd("output")...)
	w.run(0, cmd("output", "--stage", "dev", "--var", "desc=v1", "--parallelism", "3")...)
	w.run(0, cmd("output", "-format", "tfvars")...)
	w.run(0, cmd("plan", "-no-payloads")...)
	w.run(0, cmd("plan", "-no-payloads", "-json")...)
	w.run(0, cmd("plan", "-no-payloads", "-markdown")...)
	w.run(0, cmd("stages")...)
	w.run(0, cmd("stages", "-json")...)
	w.run(0, cmd("audit")...)
	w.run(0, cmd("audit", "--stage", "dev", "--var", "desc=v1", "--parallelism", "3")...)
	w.run(0, cmd("audit", "-json")...)
	w.run(0, cmd("audit", "-markdown")...)
	w.run(0, cmd("--parallelism", "2", "apply", "--stage", "dev", "-auto-approve")...)

	// Change payloads and a description, regenerate a field: --debug shows
	// PutSecretValue, UpdateSecret and the GetSecretValue that keeps the
	// other generated value, all redacted.
	env2, field2 := newCanary("env"), newCanary("env-field")
	s.add(env2, field2)
	w.setenv("LEAK_ENV="+string(env2.value), "LEAK_FIELD="+string(field2.value))
	r = w.run(0, cmd("--debug", "apply", "-auto-approve", "--var", "desc=v2", "--regenerate", "app/db.password")...)
	for op := range checkDebugLog(t, r.label, r.stderr) {
		debugOps[op] = true
	}
	withStateSandbox(t, w.stateDir(), func(sm *secretsmanager.Client) { readGenerated(t, s, sm, "-regenerated") })
	r = w.run(0, cmd("--debug", "plan", "--var", "desc=v2")...)
	checkDebugLog(t, r.label, r.stderr)
	for _, op := range []string{"CreateSecret", "PutSecretValue", "UpdateSecret", "GetSecretValue", "ListSecrets"} {
		if !debugOps[op] {
			t.Errorf("no --debug run showed %s; saw %v", op, debugOps)
		}
	}

	w.run(0, cmd("policy")...)
	w.run(0, cmd("policy", "--stage", "dev", "--var", "desc=v2", "--parallelism", "3")...)
	w.run(0, cmd("policy", "-check")...)
	w.run(0, cmd("--debug", "policy", "-dir", "out/policies")...)
	w.run(0, cmd("policy", "-deployer")...)
	w.run(0, cmd("policy", "-deployer", "-json")...)
	w.run(0, cmd("policy", "-deployer", "-dir", "out/deployer")...)
	w.run(0, cmd("policy", "-deployer", "-format", "terraform", "-dir", "out/installer")...)
	w.run(0, cmd("policy", "-deployer", "-format", "cloudformation")...)
	w.run(0, cmd("policy", "-reviewer")...)
	w.run(0, cmd("policy", "-all-stages", "-dir", "out/all-stages")...)
	w.run(0, "man", "out/man")
	w.run(0, "completion", "bash")
	w.run(0, cmd("__complete", "plan", "--stage", "")...)
	w.run(0, cmd("verify")...)
	w.run(0, cmd("verify", "--stage", "dev", "--var", "desc=v2", "--parallelism", "3")...)
	w.run(0, cmd("verify", "-json")...)
	w.run(0, cmd("verify", "--offline")...)
	w.run(0, cmd("verify", "-markdown")...)
	w.run(0, cmd("verify", "-markdown", "-markdown-limit", "600")...)
	w.run(0, cmd("verify", "-format", "dot")...)
	r = w.run(0, cmd("--debug", "verify")...)
	checkDebugLog(t, r.label, r.stderr)

	checkPayloadsReachedSandbox(t, s, filepath.Join(w.stateDir(), "state.json"),
		"env", "env-field", "env-derived-upper", "env-imported", "file", "filebase64", "literal",
		"generated", "generated-field-regenerated", "rotated", "stage-key")

	w.run(0, cmd("destroy", "-auto-approve", "--iam-write-rate", "50", "--stage", "dev", "--var", "desc=v2", "--parallelism", "3")...)
	w.run(0, cmd("plan", "--destroy")...)

	checkFilesAtRest(t, w)
	s.report(t)
	t.Logf("leaktest: %d commands, sources %v", len(w.runs), s.sources())
}

// checkPayloadsReachedSandbox proves the canaries are the payloads the CLI
// wrote: the sandbox's state file, the one place that may hold them, has
// every listed source. Without it, zero hits could mean the harness planted
// canaries nowhere.
func checkPayloadsReachedSandbox(t *testing.T, s *scanner, stateFile string, sources ...string) {
	t.Helper()
	data, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	proof := &scanner{entries: s.entries}
	proof.scan("(proof)", "state file", data)
	found := map[string]bool{}
	for _, h := range proof.hits {
		found[h.source] = true
	}
	for _, src := range sources {
		if !found[src] {
			t.Errorf("the %s canary is not in the sandbox's state: it never reached Secrets Manager", src)
		}
	}
}

// checkFilesAtRest rescans the whole workspace with every canary (generated
// values were unknown when the early files were written) and checks the
// modes: saved plans and policy files 0644, sandbox state 0600 in 0700.
func checkFilesAtRest(t *testing.T, w *workspace) {
	t.Helper()
	err := filepath.WalkDir(w.root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a sandbox's temporary file, renamed meanwhile
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(w.root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case w.inputs[rel]:
			return nil
		case isStateFile(p):
			w.checkStateMode(p)
			return nil
		case strings.HasSuffix(rel, ".bin") || strings.HasPrefix(rel, "policies/") || strings.Contains(rel, "/policies/"):
			w.checkMode(p, 0o644)
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if orig, ok := w.sources[rel]; ok {
			w.scanner.scanExcept("(at rest)", "file "+rel, data, orig)
			return nil
		}
		w.scanner.scan("(at rest)", "file "+rel, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The streams of every command, with the canaries learnt since.
	for _, r := range w.runs {
		w.scanner.scan(r.label+" (rescan)", "stdout", r.stdout)
		w.scanner.scan(r.label+" (rescan)", "stderr", r.stderr)
	}
}
