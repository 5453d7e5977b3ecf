package leaktest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// specHeader is the project, stage and role every error-path spec shares.
const specHeader = `project = "leak"

stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
}

role "web" {}
`

// TestNoLeakSpecErrors makes the spec fail in every way that involves a
// payload and checks that no command quotes the payload while reporting it.
func TestNoLeakSpecErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70_000)
	tests := []struct {
		name  string
		spec  string
		files map[string][]byte // payload files; CANARY is replaced by the canary
		env   map[string]string // environment; CANARY is replaced by the canary
	}{
		{
			name: "missing env var beside a present canary",
			spec: `
secret "app/both" {
  readers = [role.web]
  value   = { present = env("LEAK_ENV"), missing = env("LEAK_MISSING") }
}

secret "app/present" {
  readers = [role.web]
  value   = env("LEAK_ENV")
}
`,
			env: map[string]string{"LEAK_ENV": "CANARY"},
		},
		{
			name: "oversize file payload",
			spec: `
secret "app/big" {
  readers = [role.web]
  value   = file("big.txt")
}
`,
			files: map[string][]byte{"big.txt": append(append(append([]byte("CANARY"), big...), "CANARY"...), big[:100]...)},
		},
		{
			name: "oversize env payload inside an object",
			spec: `
secret "app/big" {
  readers = [role.web]
  value   = { blob = env("LEAK_BIG"), token = env("LEAK_ENV") }
}
`,
			env: map[string]string{"LEAK_BIG": string(big) + "CANARY", "LEAK_ENV": "CANARY"},
		},
		{
			name: "oversize binary payload",
			spec: `
secret "app/big" {
  readers = [role.web]
  binary  = filebase64("big.bin")
}
`,
			files: map[string][]byte{"big.bin": append(append([]byte("CANARY"), big...), 0xff)},
		},
		{
			name: "invalid UTF-8 in a file() payload",
			spec: `
secret "app/bad" {
  readers = [role.web]
  value   = file("bad.txt")
}
`,
			files: map[string][]byte{"bad.txt": []byte("CANARY\xff\xfeCANARY")},
		},
		{
			name: "invalid UTF-8 in an env() payload",
			spec: `
secret "app/bad" {
  readers = [role.web]
  value   = env("LEAK_BAD")
}
`,
			env: map[string]string{"LEAK_BAD": "CANARY\xff\xfe"},
		},
		{
			name: "payload in failing functions",
			spec: `
secret "app/a" {
  readers = [role.web]
  value   = jsondecode(file("payload.txt"))
}

secret "app/b" {
  readers = [role.web]
  value   = tostring(tonumber(env("LEAK_ENV")))
}

secret "app/c" {
  readers = [role.web]
  value   = regex("(", env("LEAK_ENV"))
}

secret "app/d" {
  readers = [role.web]
  binary  = env("LEAK_ENV")
}
`,
			files: map[string][]byte{"payload.txt": []byte("CANARY {not json")},
			env:   map[string]string{"LEAK_ENV": "CANARY"},
		},
		{
			name: "payload where no payload belongs",
			spec: `
secret "app/a" {
  description = env("LEAK_ENV")
  readers     = [role.web]
  value       = env("LEAK_ENV")
  tags        = { owner = file("payload.txt") }
}

role "named" {
  description = file("payload.txt")
}
`,
			files: map[string][]byte{"payload.txt": []byte("CANARY")},
			env:   map[string]string{"LEAK_ENV": "CANARY"},
		},
		{
			name: "literal credential without allow_literal",
			spec: `
secret "app/db" {
  readers = [role.web]
  value   = { password = LITERAL }
}

secret "app/api-token" {
  readers = [role.web]
  value   = LITERAL
}
`,
		},
		{
			name: "error beside an allowed literal",
			spec: `
secret "app/db" {
  readers       = [role.web]
  allow_literal = true
  value         = { password = LITERAL, port = tonumber("x") }
}
`,
		},
		{
			name: "allowed literal in failing functions",
			spec: `
secret "app/a" {
  readers       = [role.web]
  allow_literal = true
  value         = tonumber(LITERAL)
}

secret "app/b" {
  readers       = [role.web]
  allow_literal = true
  value         = jsondecode(LITERAL)
}

secret "app/c" {
  readers       = [role.web]
  allow_literal = true
  binary        = LITERAL
}
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScanner()
			w := newWorkspace(t, s)
			c := newCanary("payload")
			s.add(c)
			w.write("main.hcl", []byte(specHeader+strings.ReplaceAll(tt.spec, "LITERAL", hclString(string(c.value)))))
			for name, data := range tt.files {
				w.write(name, bytes.ReplaceAll(data, []byte("CANARY"), c.value))
			}
			for k, v := range tt.env {
				w.setenv(k + "=" + strings.ReplaceAll(v, "CANARY", string(c.value)))
			}
			for _, args := range [][]string{
				{"validate"}, {"validate", "-json"}, {"plan", "--sandbox"}, {"plan", "-json", "--sandbox"},
				{"apply", "-auto-approve", "--sandbox"},
			} {
				r := w.run(1, append(args, "--spec", "spec")...)
				if len(r.stdout)+len(r.stderr) == 0 {
					t.Errorf("`%s` failed silently", r.label)
				}
			}
			// destroy does not evaluate payloads: it fails only when the
			// error is outside value and binary. Its output is scanned
			// either way.
			w.run(-1, "--debug", "destroy", "-auto-approve", "--sandbox", "--spec", "spec")
			s.report(t)
		})
	}
}

// TestNoLeakServeFaults runs the CLI against `sandbox serve` with injected
// 5xx and AWS's request-rate quotas, throttles it on purpose, and scans the
// CLI's --debug logs and the server's request log.
func TestNoLeakServeFaults(t *testing.T) {
	w, s := mainWorkspace(t)
	// Besides the faults, the server's fidelity knobs: latency, IAM's
	// eventual consistency and write quota, the listing's lag, each a
	// change of when and how the server answers.
	srv := w.serve("--fault-rate", "0.15", "--quotas", "aws", "--iam-write-rate", "20", "--latency", "2ms", "--jitter", "3ms",
		"--propagation-delay", "300ms", "--propagate-writes", "--listing-lag", "300ms", "--debug", "--state", "serve-state")
	spec := []string{"--spec", "spec", "--debug"}
	w.runEnv(srv.env(), 0, append(spec, "apply", "-auto-approve")...)
	withSM(t, srv, func(sm *secretsmanager.Client) { readGenerated(t, s, sm, "") })
	srv.runThrottled(0, append(spec, "plan")...)
	w.runEnv(srv.env(), 0, append(spec, "output")...)
	w.runEnv(srv.env(), 0, append(spec, "verify")...)
	w.runEnv(srv.env(), 0, append(spec, "destroy", "-auto-approve")...)
	r := srv.stop()
	checkPayloadsReachedSandbox(t, s, filepath.Join(w.root, "serve-state", "state.json"),
		"env", "env-field", "file", "filebase64", "literal", "generated", "generated-field", "stage-key")
	for _, want := range []string{"status=500", "status=400", "op=CreateSecret"} {
		if !bytes.Contains(r.stderr, []byte(want)) {
			t.Errorf("the sandbox's request log lacks %s:\n%s", want, r.stderr)
		}
	}
	checkFilesAtRest(t, w)
	s.report(t)
}

// withSM runs fn with an admin Secrets Manager client of the server.
func withSM(t *testing.T, srv *server, fn func(*secretsmanager.Client)) {
	t.Helper()
	fn(secretsmanager.NewFromConfig(srv.config()))
}

// TestNoLeakAccessDenied runs the CLI with the keys of roles that may do
// nothing, or only read, against `sandbox serve --enforce-auth`: plan and
// apply fail with AccessDenied, also on a write that carries a payload.
func TestNoLeakAccessDenied(t *testing.T) {
	w, s := mainWorkspace(t)
	srv := w.serve("--enforce-auth", "--debug")
	ctx := context.Background()
	spec := []string{"--spec", "spec"}

	// The admin applies first, so that the stage key exists and the reader
	// gets as far as writing a payload.
	w.runEnv(srv.env(), 0, append(spec, "apply", "-auto-approve")...)
	withSM(t, srv, func(sm *secretsmanager.Client) { readGenerated(t, s, sm, "") })

	cfg := srv.config()
	im, st := iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	reader := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:List*","secretsmanager:Describe*","secretsmanager:GetSecretValue","secretsmanager:GetResourcePolicy","iam:Get*","iam:List*"],"Resource":"*"}]}`
	keys := map[string][]string{}
	for _, role := range []struct{ name, policy string }{{"leak-nobody", ""}, {"leak-reader", reader}} {
		out, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role.name), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			t.Fatal(err)
		}
		if role.policy != "" {
			if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role.name), PolicyName: aws.String("read"), PolicyDocument: aws.String(role.policy)}); err != nil {
				t.Fatal(err)
			}
		}
		cred, err := st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: out.Role.Arn, RoleSessionName: aws.String("leaktest")})
		if err != nil {
			t.Fatal(err)
		}
		c := cred.Credentials
		keys[role.name] = []string{aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)}
	}

	denied := [][]string{{"plan"}, {"--debug", "apply", "-auto-approve"}, {"output"}, {"import", "app/env"}, {"--debug", "destroy", "-auto-approve"}, {"--debug", "verify"}}
	for _, args := range denied {
		r := w.runEnv(srv.env(keys["leak-nobody"]...), 1, append(spec, args...)...)
		if !bytes.Contains(r.stderr, []byte("AccessDenied")) && !bytes.Contains(r.stderr, []byte("access denied")) {
			t.Errorf("`%s` as a role without rights does not report AccessDenied:\n%s", r.label, r.stderr)
		}
	}

	// New payloads: the reader plans them, and is denied the write.
	env2 := newCanary("env")
	s.add(env2)
	w.setenv("LEAK_ENV=" + string(env2.value))
	w.runEnv(srv.env(keys["leak-reader"]...), 0, append(spec, "plan")...)
	r := w.runEnv(srv.env(keys["leak-reader"]...), 1, append(spec, "--debug", "apply", "-auto-approve")...)
	if !bytes.Contains(r.stderr, []byte("operation=PutSecretValue")) || !bytes.Contains(r.stderr, []byte("AccessDenied")) {
		t.Errorf("the reader's apply was not denied a PutSecretValue:\n%s", r.stderr)
	}
	checkDebugLog(t, r.label, r.stderr)

	// The reader's keys as a profile of the shared credentials file.
	rk := keys["leak-reader"]
	w.writeInput("home/aws-credentials", []byte("[leak-reader]\naws_access_key_id = "+rk[0]+
		"\naws_secret_access_key = "+rk[1]+"\naws_session_token = "+rk[2]+"\n"))
	noKeys := []string{"AWS_ENDPOINT_URL=" + srv.url, "AWS_REGION=" + region}
	w.runEnv(noKeys, 0, append(spec, "--profile", "leak-reader", "plan")...)
	r = w.runEnv(noKeys, 1, append(spec, "--profile", "leak-reader", "--debug", "apply", "-auto-approve")...)
	if !bytes.Contains(r.stderr, []byte("AccessDenied")) {
		t.Errorf("the reader's apply by --profile was not denied:\n%s", r.stderr)
	}
	for _, args := range [][]string{{"output"}, {"audit"}, {"verify"}, {"policy", "-check"}, {"import", "app/env"}, {"destroy", "-auto-approve"}} {
		w.runEnv(noKeys, -1, append(append(spec, "--debug", "--profile", "leak-reader"), args...)...)
	}
	srv.stop()
	checkFilesAtRest(t, w)
	s.report(t)
}
