package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/sandbox"
)

const applyCanary = "canary-cli-apply-2f7c"

const applySpec = `project = "shop"

stage "dev" {
  region = "us-east-1"
}

role "web" {}

secret "app/db" {
  readers = [role.web]
  value   = env("DB_PASSWORD")
}
`

// cliRun runs one command line against a spec directory and returns the exit
// code and both streams; DB_PASSWORD holds the canary.
func cliRun(t *testing.T, streams IOStreams, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams.Out, streams.Err = &out, &errOut
	env := func(k string) (string, bool) {
		if k == "DB_PASSWORD" {
			return applyCanary, true
		}
		return "", false
	}
	code = runWithEnv(context.Background(), args, streams, env)
	if strings.Contains(out.String()+errOut.String(), applyCanary) {
		t.Fatalf("payload leaked into the output of %q:\n%s\n%s", args, out.String(), errOut.String())
	}
	return code, out.String(), errOut.String()
}

func writeSpec(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestApplyConfirmation is the TTY matrix of apply: a person at a terminal
// must type "yes"; without a terminal -auto-approve is required.
func TestApplyConfirmation(t *testing.T) {
	tests := []struct {
		name        string
		tty         bool
		answer      string
		autoApprove bool
		wantCode    int
		wantOut     string
		wantErr     string
	}{
		{"tty yes", true, "yes\n", false, exitOK, "Apply complete", ""},
		{"tty no", true, "no\n", false, exitError, "Only 'yes' will be accepted", "cancelled: nothing was changed"},
		{"tty eof", true, "", false, exitError, "Enter a value", "cancelled"},
		{"no tty", false, "yes\n", false, exitError, "", "pass -auto-approve"},
		{"no tty auto-approve", false, "", true, exitOK, "Apply complete", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSpec(t, applySpec)
			args := []string{"apply", "--sandbox", "--spec", dir}
			if tt.autoApprove {
				args = append(args, "-auto-approve")
			}
			code, out, errOut := cliRun(t, IOStreams{In: strings.NewReader(tt.answer), IsTTY: tt.tty}, args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
			// The live status line is drawn only on a terminal, and erased
			// before the summary.
			live := strings.Contains(out, "\r\x1b[K  applying")
			if applied := tt.wantCode == exitOK; live != (tt.tty && applied) {
				t.Errorf("live status line drawn = %v, want %v on tty=%v:\n%q", live, tt.tty && applied, tt.tty, out)
			}
			if i := strings.Index(out, "Apply complete"); live && i > 0 && !strings.HasSuffix(out[:i], "\r\x1b[K\n") {
				t.Errorf("status line not erased before the summary:\n%q", out)
			}
		})
	}
}

// TestImportAdoptsUnownedSecret seeds the sandbox's state with a secret made
// outside secretboot, then checks that plan refuses it and points at import,
// and that after import, apply takes the secret over.
func TestImportAdoptsUnownedSecret(t *testing.T) {
	dir := writeSpec(t, applySpec)
	stateDir := filepath.Join(t.TempDir(), "sandbox")

	endpoint, stop, err := startSandbox(sandbox.Options{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
	_, err = sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("dev/app/db"), SecretString: aws.String("made by hand"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	sb := "--sandbox=" + stateDir
	steps := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"plan", sb, "--spec", dir}, exitError, "secretboot import dev/app/db"},
		{[]string{"import", sb, "--spec", dir, "app/db"}, exitOK, "Imported secret dev/app/db into shop/dev.\n" +
			"Their values are not yet the spec's: review with\n  secretboot plan --spec " + dir + " " + sb +
			"\nthen write them with\n  secretboot apply --spec " + dir + " " + sb + "\n"},
		// As the hint says: the imported secret's value is a change.
		{[]string{"plan", sb, "--spec", dir}, exitOK, "~ secret dev/app/db"},
		{[]string{"import", sb, "--spec", dir, "app/db"}, exitOK, "Nothing to import"},
		{[]string{"import", sb, "--spec", dir, "app/nope"}, exitError, "no such secret"},
		{[]string{"apply", sb, "--spec", dir, "-auto-approve"}, exitOK, "Apply complete"},
		{[]string{"plan", sb, "--spec", dir, "-detailed-exitcode"}, exitOK, "No changes"},
	}
	for _, st := range steps {
		code, out, errOut := cliRun(t, IOStreams{}, st.args...)
		if code != st.wantCode || !strings.Contains(out+errOut, st.want) {
			t.Fatalf("%q: exit code %d (want %d), want output containing %q\nstdout:\n%s\nstderr:\n%s",
				st.args, code, st.wantCode, st.want, out, errOut)
		}
	}
}
