package scale_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// The CLI binary is built once per test process, on first use.
var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
	cliDir  string
)

func cli(tb testing.TB) string {
	tb.Helper()
	cliOnce.Do(func() {
		cliDir, cliErr = os.MkdirTemp("", "secretboot-cli-")
		if cliErr != nil {
			return
		}
		cliPath = filepath.Join(cliDir, "secretboot")
		out, err := exec.Command("go", "build", "-o", cliPath, "github.com/secretboot/secretboot/cmd/secretboot").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		tb.Fatalf("building the CLI: %v", cliErr)
	}
	return cliPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

// sandboxProc is `secretboot sandbox serve` running as its own process.
type sandboxProc struct {
	url    string
	env    []string // AWS_* lines it printed, plus isolation from the host's AWS setup
	config aws.Config
	stop   func() // SIGTERM, so it saves its state, and wait; idempotent
}

// serveSandbox starts the sandbox process with state in a temporary
// directory and the extra flags, and stops it (SIGTERM, so it saves its
// state) when the test ends.
func serveSandbox(t *testing.T, flags ...string) *sandboxProc {
	t.Helper()
	return serveSandboxIn(t, t.TempDir(), flags...)
}

// serveSandboxIn is serveSandbox with its home (and state) in home, which
// a later sandbox process may serve again.
func serveSandboxIn(t testing.TB, home string, flags ...string) *sandboxProc {
	t.Helper()
	args := append([]string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--state", filepath.Join(home, "state")}, flags...)
	cmd := exec.Command(cli(t), args...)
	cmd.Env = isolatedEnv(home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sp := &sandboxProc{env: isolatedEnv(home)}
	var once sync.Once
	sp.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		})
	}
	t.Cleanup(sp.stop)
	vars := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(vars) < 4 && sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
		sp.env = append(sp.env, k+"="+v)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	sp.url = vars["AWS_ENDPOINT_URL"]
	if sp.url == "" {
		t.Fatalf("the sandbox printed no endpoint; stderr:\n%s", stderr.String())
	}
	sp.config = sandboxtest.Config(sp.url, scale.Region, provision.StaticCredentials(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], "", ""))
	return sp
}

// isolatedEnv keeps the host's AWS configuration (profiles, SSO, IMDS) out
// of the child processes.
func isolatedEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"NO_COLOR=1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// totalCalls asks the sandbox process how many API calls it has received.
func (sp *sandboxProc) totalCalls() (int, error) {
	resp, err := http.Get(sp.url + "/_sandbox/stats")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st sandbox.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range st.Calls {
		n += c
	}
	return n, nil
}

// run runs the CLI against the sandbox process and returns its exit code
// and output.
func (sp *sandboxProc) run(t testing.TB, specDir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cli(t), append([]string{"--spec", specDir}, args...)...)
	cmd.Env = sp.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("running secretboot %v: %v", args, err)
	return 0, ""
}

// applyKilledAfter starts `apply -auto-approve` and SIGKILLs it as soon as
// the sandbox has received at least k calls. It returns the calls counted
// when the kill was sent, or -1 when apply finished first.
func (sp *sandboxProc) applyKilledAfter(t *testing.T, specDir string, k int) int {
	t.Helper()
	cmd := exec.Command(cli(t), "--spec", specDir, "apply", "-auto-approve")
	cmd.Env = sp.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return -1
		case <-tick.C:
		}
		n, err := sp.totalCalls()
		if err != nil {
			t.Fatalf("reading sandbox stats: %v", err)
		}
		if n >= k {
			_ = cmd.Process.Kill()
			<-exited
			return n
		}
	}
}

// crashSpec writes a small generated stage and returns its directory and
// its evaluated form. The seed is one whose ten secrets hold every payload
// kind: seven objects with a generated password, a literal string, a wholly
// generated token and a binary file; three roles with instance profiles.
func crashSpec(t *testing.T) (string, *spec.Desired) {
	t.Helper()
	const n, r, seed = 10, 3, 12
	dir := t.TempDir()
	if err := scale.Write(dir, n, r, seed); err != nil {
		t.Fatal(err)
	}
	d, err := scale.Desired(n, r, seed)
	if err != nil {
		t.Fatal(err)
	}
	return dir, d
}

// checkConverged asserts the end state of a stage applied through the CLI:
// plan reports no changes, every secret has one version (each was written
// once, under one token), the roles and instance profiles are exactly the
// spec's, and no generated value differs from kept (when given).
func checkConverged(t *testing.T, sp *sandboxProc, dir string, d *spec.Desired, kept map[string][32]byte) {
	t.Helper()
	if code, out := sp.run(t, dir, "plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after recovery exits %d:\n%s", code, out)
	}
	now := checkVersions(t, sp.config, d, nil)
	for name, h := range kept {
		if now[name] != h {
			t.Errorf("the value of %s changed after the crash: a generated value was lost", name)
		}
	}
	iamc := iam.NewFromConfig(sp.config)
	ctx := context.Background()
	roles, err := iamc.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String(provision.RolePath(d))})
	if err != nil {
		t.Fatal(err)
	}
	profiles, err := iamc.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String(provision.RolePath(d))})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Roles) != len(d.Roles) || len(profiles.InstanceProfiles) != len(d.Roles) {
		t.Errorf("%d roles and %d instance profiles, want %d of each", len(roles.Roles), len(profiles.InstanceProfiles), len(d.Roles))
	}
	for _, p := range profiles.InstanceProfiles {
		if len(p.Roles) != 1 {
			t.Errorf("instance profile %s has %d roles", aws.ToString(p.InstanceProfileName), len(p.Roles))
		}
	}
}

// currentDigests reads the AWSCURRENT value of every secret that exists,
// hashed at once, so that a later read can show a value was kept.
func currentDigests(t *testing.T, sp *sandboxProc, d *spec.Desired) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	sm := secretsmanager.NewFromConfig(sp.config)
	for _, e := range allSecrets(t, sm) {
		if !strings.HasPrefix(aws.ToString(e.Name), d.NamePrefix) || e.DeletedDate != nil {
			continue
		}
		v, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: e.ARN})
		if err != nil {
			continue // created without a value, or no AWSCURRENT: nothing to keep
		}
		out[aws.ToString(e.Name)] = sha256.Sum256(append([]byte(aws.ToString(v.SecretString)), v.SecretBinary...))
	}
	return out
}

// allSecrets lists every secret, those scheduled for deletion included.
func allSecrets(t *testing.T, sm *secretsmanager.Client) []smtypes.SecretListEntry {
	t.Helper()
	var out []smtypes.SecretListEntry
	p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing secrets: %v", err)
		}
		out = append(out, page.SecretList...)
	}
	return out
}

// TestCrashDuringApply kills `secretboot apply` with SIGKILL after k API
// calls, for every k from 1 to the calls a whole apply makes, each time on
// a fresh sandbox process. After each kill an ordinary apply must succeed,
// plan must show no changes, no secret may hold more than its one version,
// no generated value written before the kill may change, and nothing
// half-made (a role without its profile, a second stage key) may remain.
func TestCrashDuringApply(t *testing.T) {
	dir, d := crashSpec(t)
	// Latency makes every call last long enough for the kill to land
	// between calls, in the middle of a phase.
	latency := []string{"--latency", "10ms", "--jitter", "10ms"}

	sp := serveSandbox(t, latency...)
	if code, out := sp.run(t, dir, "apply", "-auto-approve"); code != 0 {
		t.Fatalf("uninterrupted apply exits %d:\n%s", code, out)
	}
	total, err := sp.totalCalls()
	if err != nil {
		t.Fatal(err)
	}
	checkConverged(t, sp, dir, d, nil)

	// Every fourth k unless SECRETBOOT_LONG_TESTS=1 (.ci/run sets it).
	step := 1
	if testing.Short() || os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		step = 4
	}
	deadline := time.Now().Add(75 * time.Second)
	killed := 0
	for k := 1; k <= total; k += step {
		if time.Now().After(deadline) {
			t.Logf("time budget spent: stopped at k=%d of %d", k, total)
			break
		}
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			sp := serveSandbox(t, latency...)
			at := sp.applyKilledAfter(t, dir, k)
			if at < 0 {
				t.Logf("apply finished before %d calls", k)
			} else {
				killed++
			}
			kept := currentDigests(t, sp, d)
			if code, out := sp.run(t, dir, "apply", "-auto-approve"); code != 0 {
				t.Fatalf("apply after a kill at %d calls exits %d:\n%s", at, code, out)
			}
			checkConverged(t, sp, dir, d, kept)
		})
	}
	t.Logf("a whole apply makes %d calls; %d runs were killed mid-apply", total, killed)
}

// TestConcurrentApplies starts two applies of the same stage at the same
// moment, several times on a fresh sandbox. Each must succeed or fail with
// a message that says what to do; at least one succeeds; and the stage ends
// converged with one version per secret, without a rerun.
func TestConcurrentApplies(t *testing.T) {
	dir, d := crashSpec(t)
	for round := range 3 {
		t.Run(fmt.Sprintf("round=%d", round), func(t *testing.T) {
			sp := serveSandbox(t, "--latency", "20ms", "--jitter", "20ms")
			type result struct {
				code int
				out  string
			}
			results := make([]result, 2)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					code, out := sp.run(t, dir, "apply", "-auto-approve")
					results[i] = result{code, out}
				})
			}
			wg.Wait()
			ok := 0
			for i, r := range results {
				switch {
				case r.code == 0:
					ok++
					t.Logf("apply %d succeeded: %s", i, lineWith(r.out, "Apply complete"))
				case r.code != 1 || strings.Contains(r.out, "panic") || !strings.Contains(r.out, "apply again") && !strings.Contains(r.out, "plan again"):
					t.Errorf("apply %d exits %d without saying what to do:\n%s", i, r.code, r.out)
				default:
					t.Logf("apply %d failed as allowed: %s", i, lineWith(r.out, "Error"))
				}
			}
			if ok == 0 {
				t.Errorf("neither concurrent apply succeeded")
			}
			kept := currentDigests(t, sp, d)
			checkConverged(t, sp, dir, d, kept)
			if code, out := sp.run(t, dir, "apply", "-auto-approve"); code != 0 {
				t.Fatalf("a later apply exits %d:\n%s", code, out)
			}
			checkConverged(t, sp, dir, d, kept)
		})
	}
}

// lineWith returns the first line of out that contains substr, for a
// one-line log of a CLI run.
func lineWith(out, substr string) string {
	for line := range strings.Lines(out) {
		if strings.Contains(line, substr) {
			return strings.TrimSpace(line)
		}
	}
	return "(no line with " + substr + ")"
}
