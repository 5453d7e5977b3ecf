package scale_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// terraformSizes are the (N, R) pairs BenchmarkTerraform measures: small
// ones, since Terraform's apply of 100 secrets already takes a while; with
// SECRETBOOT_BENCH_LARGE=1 also N=1,000.
func terraformSizes() [][2]int {
	sizes := [][2]int{{10, 10}, {100, 10}}
	if large() {
		sizes = append(sizes, [2]int{1000, 50})
	}
	return sizes
}

// BenchmarkTerraform measures Terraform and secretboot side by side on the
// same kind of sandbox (AWS-like latency and quotas, a fresh one per tool):
// an apply from empty, a no-change plan and an apply that changes one
// secret's value, each a CLI process as a user runs it. It reports wall
// time, calls, CPU time and peak RSS of each step (for Terraform the sum
// over its process and the provider plugin's), and the ratios Terraform /
// secretboot. Terraform gets the configuration of scale.TerraformSource.
//
// It runs only with SECRETBOOT_BENCH_TERRAFORM=1, and skips where terraform
// or a filesystem mirror of the hashicorp/aws provider is missing:
//
//	SECRETBOOT_BENCH_TERRAFORM=1 go test -bench Terraform -run '^$' -benchtime 1x -timeout 1h ./internal/scale/
func BenchmarkTerraform(b *testing.B) {
	if os.Getenv("SECRETBOOT_BENCH_TERRAFORM") != "1" {
		b.Skip("set SECRETBOOT_BENCH_TERRAFORM=1 to measure Terraform beside secretboot")
	}
	tf, why := findTerraform()
	if tf == "" {
		b.Skip(why)
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("peak RSS of a process tree is read from /proc, which this system lacks")
	}
	for _, size := range terraformSizes() {
		n, r := size[0], size[1]
		b.Run(fmt.Sprintf("N=%d/R=%d", n, r), func(b *testing.B) {
			var sb, tfm [3]step
			for b.Loop() {
				sb = measureSecretboot(b, n, r)
				tfm = measureTerraform(b, tf, n, r)
			}
			b.Logf("%-22s %10s %10s %8s %8s %10s", "N="+strconv.Itoa(n)+" R="+strconv.Itoa(r), "tool", "wall", "calls", "CPU", "peak RSS")
			for i, name := range stepNames {
				for _, row := range []struct {
					tool string
					s    step
				}{{"secretboot", sb[i]}, {"terraform", tfm[i]}} {
					b.Logf("%-22s %10s %9.2fs %8d %7.2fs %7.0f MB", name, row.tool, row.s.wall.Seconds(), row.s.calls, row.s.cpu.Seconds(), row.s.rssMB)
				}
				b.Logf("%-22s %10s %9.1f× %7.1f× %7.1f× %8.1f×", name, "ratio", tfm[i].wall.Seconds()/sb[i].wall.Seconds(),
					float64(tfm[i].calls)/float64(sb[i].calls), tfm[i].cpu.Seconds()/sb[i].cpu.Seconds(), tfm[i].rssMB/sb[i].rssMB)
				key := stepKeys[i]
				b.ReportMetric(sb[i].wall.Seconds(), key+"-sb-s")
				b.ReportMetric(tfm[i].wall.Seconds(), key+"-tf-s")
				b.ReportMetric(float64(sb[i].calls), key+"-sb-calls")
				b.ReportMetric(float64(tfm[i].calls), key+"-tf-calls")
				b.ReportMetric(sb[i].rssMB, key+"-sb-rss-MB")
				b.ReportMetric(tfm[i].rssMB, key+"-tf-rss-MB")
				b.ReportMetric(tfm[i].wall.Seconds()/sb[i].wall.Seconds(), key+"-time-ratio")
			}
		})
	}
}

var (
	stepNames = [3]string{"apply from empty", "no-change plan", "one-secret change"}
	stepKeys  = [3]string{"apply", "noop", "change"}
)

// step is what one CLI run cost.
type step struct {
	wall  time.Duration
	calls int
	cpu   time.Duration // user + system of the process and its children
	rssMB float64       // peak of the summed RSS of the process tree
}

// measureSecretboot runs the three steps with the secretboot CLI against a
// fresh sandbox.
func measureSecretboot(b *testing.B, n, r int) [3]step {
	b.Helper()
	dir := b.TempDir()
	if err := scale.Write(dir, n, r, 1); err != nil {
		b.Fatal(err)
	}
	env := sandboxtest.Start(b, sandbox.Options{Account: scale.Account})
	env.Server.SetFaults(awsLike)
	id, key := env.Server.AdminCredentials()
	vars := append(isolatedEnv(b.TempDir()), "AWS_ENDPOINT_URL="+env.URL, "AWS_ACCESS_KEY_ID="+id,
		"AWS_SECRET_ACCESS_KEY="+key, "AWS_REGION="+scale.Region)
	run := func(want int, args ...string) step {
		cmd := exec.Command(cli(b), append([]string{"--spec", dir}, args...)...)
		cmd.Env = vars
		return measure(b, env, cmd, want)
	}
	var out [3]step
	out[0] = run(0, "apply", "-auto-approve")
	out[1] = run(0, "plan", "-detailed-exitcode")
	changeOneSecret(b, dir)
	out[2] = run(0, "apply", "-auto-approve")
	checkOneWrite(b, env, "secretboot")
	return out
}

// measureTerraform runs terraform init (not measured), then the three
// steps, against a fresh sandbox.
func measureTerraform(b *testing.B, bin string, n, r int) [3]step {
	b.Helper()
	specDir := b.TempDir()
	if err := scale.Write(specDir, n, r, 1); err != nil {
		b.Fatal(err)
	}
	d, err := scale.Desired(n, r, 1)
	if err != nil {
		b.Fatal(err)
	}
	env := sandboxtest.Start(b, sandbox.Options{Account: scale.Account})
	id, key := env.Server.AdminCredentials()
	opts := scale.TerraformOptions{Endpoint: env.URL, AccessKey: id, SecretKey: key}
	dir, home := b.TempDir(), b.TempDir()
	writeTF := func() {
		src, err := scale.TerraformSource(d, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), src, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	writeTF()
	vars := terraformEnv(b, home)
	run := func(want int, args ...string) step {
		cmd := exec.Command(bin, append(args, "-input=false", "-no-color")...)
		cmd.Dir, cmd.Env = dir, vars
		return measure(b, env, cmd, want)
	}
	run(0, "init")
	env.Server.SetFaults(awsLike)
	var out [3]step
	out[0] = run(0, "apply", "-auto-approve")
	out[1] = run(0, "plan", "-detailed-exitcode")
	// The same secret as secretboot's change: its value and its
	// write-only version move on.
	opts.Versions = map[string]int{changedSecret(b, d, specDir): 2}
	writeTF()
	out[2] = run(0, "apply", "-auto-approve")
	checkOneWrite(b, env, "terraform")
	return out
}

// findTerraform returns the terraform binary, or "" and why not, when it or
// a filesystem mirror of hashicorp/aws is missing.
func findTerraform() (string, string) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return "", "terraform is not on PATH: nothing to compare with"
	}
	if terraformMirror() == "" {
		return "", "no filesystem mirror of the hashicorp/aws provider (set SECRETBOOT_TF_PROVIDER_MIRROR to the directory holding registry.terraform.io/hashicorp/aws)"
	}
	return bin, ""
}

// terraformMirror is the first directory holding a filesystem mirror of
// hashicorp/aws: $SECRETBOOT_TF_PROVIDER_MIRROR, then where this project's
// images put it (as cmd/secretboot's installer tests look for it).
func terraformMirror() string {
	for _, m := range []string{os.Getenv("SECRETBOOT_TF_PROVIDER_MIRROR"), "/opt/tf-plugins", "/usr/share/terraform/plugins"} {
		if m == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(m, "registry.terraform.io", "hashicorp", "aws")); err == nil {
			return m
		}
	}
	return ""
}

// terraformEnv is an environment for terraform that installs the provider
// from the mirror only and keeps the host's AWS and Terraform settings out.
func terraformEnv(b *testing.B, home string) []string {
	b.Helper()
	rc := filepath.Join(home, "terraform.rc")
	config := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
`, terraformMirror())
	if err := os.WriteFile(rc, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	return append(isolatedEnv(home), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
}

// changedMarker is in the host of every generated object payload; the
// change step edits the first one.
const changedMarker = `.db.internal"`

// changeOneSecret changes the declared host of the first object secret in
// the spec at dir.
func changeOneSecret(b *testing.B, dir string) {
	b.Helper()
	path := filepath.Join(dir, "secrets.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Contains(src, []byte(changedMarker)) {
		b.Fatal("the generated spec has no object secret to change")
	}
	src = bytes.Replace(src, []byte(changedMarker), []byte(`.db2.internal"`), 1)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		b.Fatal(err)
	}
}

// changedSecret is the name of the secret changeOneSecret changes in the
// spec at dir.
func changedSecret(b *testing.B, d *spec.Desired, dir string) string {
	b.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "secrets.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	at := bytes.Index(src, []byte(changedMarker))
	if at < 0 {
		b.Fatal("the generated spec has no object secret to change")
	}
	block := bytes.LastIndex(src[:at], []byte(`secret "`))
	key, _, _ := strings.Cut(string(src[block+len(`secret "`):]), `"`)
	for _, s := range d.Secrets {
		if s.Key == key {
			return s.Name
		}
	}
	b.Fatalf("secret %q is not in the evaluated spec", key)
	return ""
}

// checkOneWrite fails unless the last step wrote exactly one new version:
// a change step that wrote nothing, or more, measured something else.
func checkOneWrite(b *testing.B, env *sandboxtest.Env, tool string) {
	b.Helper()
	st := env.Server.Stats()
	if got := st.Calls["secretsmanager.PutSecretValue"] + st.Calls["secretsmanager.UpdateSecret"]; got != 1 {
		b.Fatalf("%s's one-secret change wrote %d values, want 1 (calls %v)", tool, got, st.Calls)
	}
}

// measure runs cmd against env, which it counts from zero, and fails
// unless cmd exits with want.
func measure(b *testing.B, env *sandboxtest.Env, cmd *exec.Cmd, want int) step {
	b.Helper()
	env.Server.ResetStats()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	rss := sampleTreeRSS(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	peak := rss()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		b.Fatal(err)
	}
	if code != want {
		b.Fatalf("%s exits %d, want %d:\n%s", strings.Join(cmd.Args, " "), code, want, out.String())
	}
	c := callsOf(env.Server.Stats())
	return step{
		wall:  wall,
		calls: c.total,
		cpu:   cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		rssMB: float64(peak) / (1 << 20),
	}
}

// sampleTreeRSS samples, every 10 ms until the returned function is
// called, the summed resident set of pid and its descendants (terraform
// runs its provider as a child process) and returns the peak in bytes.
func sampleTreeRSS(pid int) func() uint64 {
	stop := make(chan struct{})
	var (
		wg   sync.WaitGroup
		peak uint64
	)
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, treeRSS(pid))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak
	}
}

// treeRSS sums the resident set of pid and its descendants, from /proc.
// A process that exits while it is read counts nothing.
func treeRSS(pid int) uint64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name, in parentheses, may hold spaces: the fields
		// after its closing parenthesis are state, then the parent's pid.
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	page := uint64(os.Getpagesize())
	var sum uint64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		statm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "statm"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(statm))
		if len(fields) < 2 {
			continue
		}
		if pages, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
			sum += pages * page
		}
	}
	return sum
}

// TestTerraformSource checks the configuration BenchmarkTerraform gives
// Terraform against the evaluated spec: a secret and a write-only version
// per secret, a role and instance profile per role, and per role a policy
// that names exactly the ARNs of the secrets it reads, DescribeSecret on
// exactly those it describes; a bumped version changes one secret only.
func TestTerraformSource(t *testing.T) {
	d, err := scale.Desired(60, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	changed := d.Secrets[7].Name
	parse := func(o scale.TerraformOptions) map[string]*hclsyntax.Block {
		src, err := scale.TerraformSource(d, o)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("main.tf does not parse: %s\n%s", diags.Error(), src)
		}
		out := map[string]*hclsyntax.Block{}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type == "resource" {
				out[b.Labels[0]+"."+b.Labels[1]] = b
			}
		}
		return out
	}
	before := parse(scale.TerraformOptions{Endpoint: "http://127.0.0.1:1"})
	after := parse(scale.TerraformOptions{Endpoint: "http://127.0.0.1:1", Versions: map[string]int{changed: 2}})

	literal := func(b *hclsyntax.Block, attr string) string {
		t.Helper()
		a, ok := b.Body.Attributes[attr]
		if !ok {
			t.Fatalf("%s %v has no %s", b.Type, b.Labels, attr)
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%s of %v: %s", attr, b.Labels, diags.Error())
		}
		if v.Type() == cty.Number {
			return v.AsBigFloat().String()
		}
		return v.AsString()
	}
	res := map[string]string{} // secret name → resource name
	count := map[string]int{}
	for addr, b := range before {
		count[b.Labels[0]]++
		if b.Labels[0] == "aws_secretsmanager_secret" {
			res[literal(b, "name")] = b.Labels[1]
		}
		if b.Labels[0] == "aws_secretsmanager_secret_version" {
			// A version has its secret's resource name.
			got, want := literal(after[addr], "secret_string_wo_version"), "1"
			if literal(before["aws_secretsmanager_secret."+b.Labels[1]], "name") == changed {
				want = "2"
			}
			if got != want {
				t.Errorf("%s: secret_string_wo_version %s after the bump, want %s", addr, got, want)
			}
		}
	}
	roles := 0
	for _, r := range d.Roles {
		if r.InstanceProfile {
			roles++
		}
	}
	want := map[string]int{"aws_secretsmanager_secret": len(d.Secrets), "aws_secretsmanager_secret_version": len(d.Secrets),
		"aws_iam_role": len(d.Roles), "aws_iam_instance_profile": roles}
	for typ, n := range want {
		if count[typ] != n {
			t.Errorf("%d %s, want %d", count[typ], typ, n)
		}
	}

	// What each role's policy names, by action, from the references in it.
	reads, describes := map[string][]string{}, map[string][]string{}
	for _, s := range d.Secrets {
		for _, rd := range s.Readers {
			reads[rd.Role] = append(reads[rd.Role], res[s.Name])
			if rd.Describe {
				describes[rd.Role] = append(describes[rd.Role], res[s.Name])
			}
		}
	}
	policies := 0
	for _, b := range before {
		if b.Labels[0] != "aws_iam_role_policy" {
			continue
		}
		policies++
		role := before["aws_iam_role."+b.Labels[1]]
		if role == nil {
			t.Fatalf("policy %s has no role", b.Labels[1])
		}
		key := strings.TrimPrefix(literal(role, "name"), d.RolePrefix)
		stmts := b.Body.Attributes["policy"].Expr.(*hclsyntax.FunctionCallExpr).Args[0].(*hclsyntax.ObjectConsExpr).Items[1].ValueExpr.(*hclsyntax.TupleConsExpr).Exprs
		got := map[string][]string{}
		for _, st := range stmts {
			var action string
			var refs []string
			for _, item := range st.(*hclsyntax.ObjectConsExpr).Items {
				k, _ := item.KeyExpr.Value(nil)
				switch k.AsString() {
				case "Action":
					v, _ := item.ValueExpr.Value(nil)
					action = v.AsString()
				case "Resource":
					for _, tr := range item.ValueExpr.Variables() {
						refs = append(refs, tr[1].(hcl.TraverseAttr).Name)
					}
				}
			}
			got[action] = refs
		}
		if !slices.Equal(sorted(got["secretsmanager:GetSecretValue"]), sorted(reads[key])) {
			t.Errorf("role %s reads %v, want %v", key, got["secretsmanager:GetSecretValue"], reads[key])
		}
		if !slices.Equal(sorted(got["secretsmanager:DescribeSecret"]), sorted(describes[key])) {
			t.Errorf("role %s describes %v, want %v", key, got["secretsmanager:DescribeSecret"], describes[key])
		}
	}
	if policies != len(reads) {
		t.Errorf("%d role policies, want one per role that reads: %d", policies, len(reads))
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestTerraformSourceRefusesWhatItCannotExpress: a stage with work that
// Terraform's side would leave out is refused, not shortened; a
// description holding a template sequence stays text.
func TestTerraformSourceRefusesWhatItCannotExpress(t *testing.T) {
	d, err := scale.Desired(10, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Roles[0].Description = "reads ${var.x} and %{ if y }"
	src, err := scale.TerraformSource(d, scale.TerraformOptions{Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("main.tf does not parse: %s", diags.Error())
	}
	var description string
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "resource" && b.Labels[0] == "aws_iam_role" && b.Labels[1] == "r000" {
			v, diags := b.Body.Attributes["description"].Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			description = v.AsString()
		}
	}
	if description != d.Roles[0].Description {
		t.Errorf("description %q, want %q", description, d.Roles[0].Description)
	}

	for name, change := range map[string]func(*spec.Secret){
		"replica":      func(s *spec.Secret) { s.Replicas = []spec.Replica{{Region: "us-west-2"}} },
		"customer key": func(s *spec.Secret) { s.KMSKeyARN = "arn:aws:kms:us-east-1:000000000000:key/k" },
	} {
		d, err := scale.Desired(10, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		change(d.Secrets[3])
		if _, err := scale.TerraformSource(d, scale.TerraformOptions{}); err == nil {
			t.Errorf("%s: the Terraform source leaves it out without an error", name)
		}
	}
}
