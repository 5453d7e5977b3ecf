package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/rhysd/actionlint"
)

const workflowsDir = "../../examples/ci/github/workflows"

// TestWorkflowsLint runs actionlint (its library, pinned in go.mod) over
// the example workflows: syntax, expressions and their types, job needs,
// action inputs, matrix values.
func TestWorkflowsLint(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows in %s: %v", workflowsDir, err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint found %d problems:\n%s", len(errs), out.String())
	}
}

// TestWorkflowsRunBashWithPipefail: every example workflow makes `shell:
// bash` its default, which runStep emulates. Without it GitHub runs a step
// as `bash -e`, and `secretboot plan … | tee plan.md` would exit 0 after a
// broadening grant (exit 3).
func TestWorkflowsRunBashWithPipefail(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows in %s: %v", workflowsDir, err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wf, errs := actionlint.Parse(src)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs[0])
		}
		if d := wf.Defaults; d == nil || d.Run == nil || d.Run.Shell == nil || d.Run.Shell.Value != "bash" {
			t.Errorf("%s: defaults.run.shell is not bash, so its run steps lose the exit code of a pipe's first command", filepath.Base(f))
		}
	}
}

// TestWorkflowsLintCatches proves that the lint is not vacuous: a typo in
// an expression of the example fails it.
func TestWorkflowsLintCatches(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(workflowsDir, "secretboot-deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(src, []byte("${{ vars.SECRETBOOT_ROLE_ARN }}"), []byte("${{ var.SECRETBOOT_ROLE_ARN }}"), 1)
	l, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint("secretboot-deploy.yml", bad, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 {
		t.Error("actionlint accepted an undefined context var")
	}
}

// githubEnv is what GitHub gives the jobs of the example workflows: per
// GitHub environment its variables and secrets, the labels of the pull
// request, and the credentials aws-actions/configure-aws-credentials gets
// for a role with the job's OIDC token (Token, which asks STS as the
// action does). Endpoint points the SDK at the sandbox instead of AWS.
type githubEnv struct {
	Endpoint     string
	Repository   string
	Environments map[string]environment
	Labels       []string
	Token        func(t *testing.T, roleARN, subject string) (aws.Credentials, error)
}

type environment struct {
	Vars, Secrets map[string]string
}

// expression is any ${{ }} of the workflows.
var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// property is the form the test evaluates from contexts:
// vars.X, secrets.X, matrix.X, steps.ID.outputs.X, needs.JOB.outputs.X.
var property = regexp.MustCompile(`^(vars|secrets|matrix|steps|needs)\.([A-Za-z_][A-Za-z0-9_-]*)(\.outputs\.([A-Za-z_][A-Za-z0-9_-]*))?$`)

// scope is what a step's expressions see.
type scope struct {
	env    environment
	matrix map[string]string
	steps  map[string]map[string]string // step id → its outputs
	needs  map[string]map[string]string // job id → its outputs
	labels []string
	failed bool // a previous step of the job failed
}

// eval evaluates one expression; one the test does not know fails it, so
// the workflows cannot outgrow what is checked.
func (sc *scope) eval(t *testing.T, expr string) string {
	t.Helper()
	if m := property.FindStringSubmatch(expr); m != nil {
		var v string
		var ok bool
		switch m[1] {
		case "vars":
			v, ok = sc.env.Vars[m[2]]
		case "secrets":
			v, ok = sc.env.Secrets[m[2]]
		case "matrix":
			v, ok = sc.matrix[m[2]]
		case "steps":
			v, ok = sc.steps[m[2]][m[4]]
		case "needs":
			v, ok = sc.needs[m[2]][m[4]]
		}
		if !ok {
			t.Fatalf("expression %s: the test gives no value for it", expr)
		}
		return v
	}
	switch expr {
	case "!contains(github.event.pull_request.labels.*.name, 'secretboot:broadening-ok')":
		return strconv.FormatBool(!slices.Contains(sc.labels, "secretboot:broadening-ok"))
	case "!cancelled()":
		return "true"
	case "github.event.pull_request.head.repo.full_name == github.repository":
		return "true" // the test plays pull requests of the repository, not of forks
	}
	t.Fatalf("expression %q: the test cannot evaluate it", expr)
	return ""
}

func (sc *scope) expand(t *testing.T, s string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		return sc.eval(t, expression.FindStringSubmatch(m)[1])
	})
}

// runs reports whether a step with condition cond runs: GitHub's default
// success() unless the condition says otherwise.
func (sc *scope) runs(t *testing.T, cond *actionlint.String) bool {
	t.Helper()
	if cond == nil {
		return !sc.failed
	}
	c := strings.TrimSpace(cond.Value)
	if m := expression.FindStringSubmatch(c); m != nil && m[0] == c {
		c = m[1]
	}
	return sc.eval(t, c) == "true"
}

// stepEnv is the environment GitHub gives a run step: the runner's, the
// workflow's, the job's and the step's env (later ones win), the AWS
// variables configure-aws-credentials exports once it has run, and the
// file of the step's outputs.
func (sc *scope) stepEnv(t *testing.T, endpoint string, layers []*actionlint.Env, creds *aws.Credentials, region, output string) []string {
	t.Helper()
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": output,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": endpoint,
	}
	for _, l := range layers {
		if l == nil {
			continue
		}
		for _, v := range l.Vars {
			vars[v.Name.Value] = sc.expand(t, v.Value.Value)
		}
	}
	if creds != nil { // configure-aws-credentials has run
		for k, v := range map[string]string{
			"AWS_REGION": region, "AWS_DEFAULT_REGION": region,
			"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken,
		} {
			vars[k] = v
		}
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// run runs one command as a step of the stage's deploy job would, for the
// test's own checks beside the workflows.
func (g githubEnv) run(t *testing.T, repo, stage string, creds aws.Credentials, script string) {
	t.Helper()
	if err := g.runAs(t, repo, stage, creds, script); err != nil {
		t.Fatal(err)
	}
}

// runAs runs a script with the stage's variables and secrets and creds.
func (g githubEnv) runAs(t *testing.T, repo, stage string, creds aws.Credentials, script string) error {
	t.Helper()
	e := g.Environments[stage]
	sc := &scope{env: e}
	env := sc.stepEnv(t, g.Endpoint, nil, &creds, e.Vars["AWS_REGION"], filepath.Join(t.TempDir(), "output"))
	_, err := runStep(t, repo, append(env, "SECRETBOOT_STAGE="+stage, "API_TOKEN="+e.Secrets["API_TOKEN"]), script)
	return err
}

// runWorkflow runs, in the repository, every step of the workflow's jobs
// for stage that invokes secretboot, jobs in the order of their needs and
// steps in order, with the environment GitHub would give it, and returns
// the steps that failed ("job/step name" → exit code). Job and step
// conditions are evaluated (runs). A job with a stage
// matrix runs its row for stage, from a list or from a job's output; a job
// runs when it has no GitHub environment or one of g's. After a failed step
// a step runs only if its condition says so. actions/checkout, setup-go
// and the install step are the repository and the secretboot on PATH;
// configure-aws-credentials gets the credentials of the job's token: the
// environment's, else the pull request's.
func runWorkflow(t *testing.T, repo, file, stage string, g githubEnv) map[string]int {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repo, ".github", "workflows", file))
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(src)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs[0])
	}
	pullRequest := slices.ContainsFunc(wf.On, func(e actionlint.Event) bool { return e.EventName() == "pull_request" })
	needs := map[string]map[string]string{}
	failures := map[string]int{}
	ran := 0
	for _, id := range jobOrder(t, wf) {
		job := wf.Jobs[id]
		sc := &scope{needs: needs, steps: map[string]map[string]string{}, labels: g.Labels}
		if !sc.matrixRow(t, job, stage) || !sc.runs(t, job.If) {
			continue // a job for other stages, or one whose condition is false
		}
		if job.Environment != nil {
			name := sc.expand(t, job.Environment.Name.Value)
			var ok bool
			if sc.env, ok = g.Environments[name]; !ok {
				continue // another stage's job
			}
		}
		var creds *aws.Credentials
		region := ""
		for i, step := range job.Steps {
			// Only the steps the test plays have their condition evaluated.
			switch x := step.Exec.(type) {
			case *actionlint.ExecAction:
				if !strings.HasPrefix(x.Uses.Value, "aws-actions/configure-aws-credentials@") {
					continue
				}
			case *actionlint.ExecRun:
				if !invokesSecretboot(x.Run.Value) {
					continue
				}
			}
			if !sc.runs(t, step.If) {
				continue
			}
			name := fmt.Sprintf("%s/%d", id, i+1)
			if step.Name != nil {
				name = id + "/" + step.Name.Value
			}
			switch x := step.Exec.(type) {
			case *actionlint.ExecAction:
				role := sc.expand(t, x.Inputs["role-to-assume"].Value.Value)
				subject := "repo:" + g.Repository + ":pull_request"
				switch {
				case job.Environment != nil:
					subject = "repo:" + g.Repository + ":environment:" + sc.expand(t, job.Environment.Name.Value)
				case !pullRequest:
					t.Fatalf("%s job %s: credentials without an environment outside a pull request", file, id)
				}
				c, err := g.Token(t, role, subject)
				if err != nil {
					t.Fatalf("%s job %s: the token (%s) does not open %s: %v", file, id, subject, role, err)
				}
				creds, region = &c, sc.expand(t, x.Inputs["aws-region"].Value.Value)
			case *actionlint.ExecRun:
				output := filepath.Join(t.TempDir(), "output")
				vars := sc.stepEnv(t, g.Endpoint, []*actionlint.Env{wf.Env, job.Env, step.Env}, creds, region, output)
				if strings.Contains(x.Run.Value, "-no-payloads") {
					for _, e := range g.Environments {
						for k := range e.Secrets {
							if slices.ContainsFunc(vars, func(v string) bool { return strings.HasPrefix(v, k+"=") }) {
								t.Fatalf("%s: a plan without payloads has the payload source %s set", name, k)
							}
						}
					}
				}
				t.Logf("%s %s: %s", file, name, strings.TrimSpace(x.Run.Value))
				code, err := runStep(t, repo, vars, sc.expand(t, x.Run.Value))
				ran++
				if err != nil {
					t.Logf("%v", err)
					failures[name] = code
					sc.failed = true
					continue
				}
				if step.ID != nil {
					sc.steps[step.ID.Value] = readOutputs(t, output)
				}
			}
		}
		needs[id] = map[string]string{}
		for k, o := range job.Outputs {
			needs[id][k] = sc.expand(t, o.Value.Value)
		}
	}
	if ran == 0 {
		t.Fatalf("%s: no secretboot step ran for stage %s", file, stage)
	}
	return failures
}

// matrixRow sets the scope's matrix to the job's row for stage and reports
// whether the job has one; a job without a matrix runs for every stage.
// The rows are a list of stages or a job's output (stages -json).
func (sc *scope) matrixRow(t *testing.T, job *actionlint.Job, stage string) bool {
	t.Helper()
	if job.Strategy == nil || job.Strategy.Matrix == nil {
		return true
	}
	m := job.Strategy.Matrix
	if row, ok := m.Rows["stage"]; ok {
		for _, v := range row.Values {
			if s, ok := v.(*actionlint.RawYAMLString); ok && s.Value == stage {
				sc.matrix = map[string]string{"stage": stage}
				return true
			}
		}
		return false
	}
	if m.Include == nil || m.Include.Expression == nil {
		t.Fatalf("job %s: a matrix without stages", job.ID.Value)
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(expression.FindStringSubmatch(m.Include.Expression.Value)[1], "fromJSON("), ")")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(sc.eval(t, inner)), &rows); err != nil {
		t.Fatalf("job %s: matrix %s: %v", job.ID.Value, inner, err)
	}
	for _, r := range rows {
		if r["stage"] == stage {
			sc.matrix = map[string]string{}
			for k, v := range r {
				sc.matrix[k] = fmt.Sprint(v)
			}
			return true
		}
	}
	t.Fatalf("job %s: the matrix has no row for stage %s", job.ID.Value, stage)
	return false
}

// jobOrder is the workflow's jobs, each after those it needs.
func jobOrder(t *testing.T, wf *actionlint.Workflow) []string {
	t.Helper()
	ids := make([]string, 0, len(wf.Jobs))
	for id := range wf.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var order []string
	done := map[string]bool{}
	for len(order) < len(ids) {
		n := len(order)
		for _, id := range ids {
			if done[id] {
				continue
			}
			ready := true
			for _, need := range wf.Jobs[id].Needs {
				ready = ready && done[need.Value]
			}
			if ready {
				done[id] = true
				order = append(order, id)
			}
		}
		if len(order) == n {
			t.Fatal("the jobs' needs form a cycle")
		}
	}
	return order
}

// readOutputs parses a step's GITHUB_OUTPUT file: NAME=VALUE lines and
// NAME<<DELIMITER blocks.
func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	out := map[string]string{}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return out
	} else if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if k, delim, ok := strings.Cut(lines[i], "<<"); ok {
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			out[k] = strings.Join(v, "\n")
		} else if k, v, ok := strings.Cut(lines[i], "="); ok {
			out[k] = v
		}
	}
	return out
}

// invokesSecretboot reports whether a run script calls secretboot as a
// command (not only installs it).
var invokesSecretboot = regexp.MustCompile(`(?m)(^|[\s;&|({])secretboot\s`).MatchString

// runStep runs a script as GitHub runs a step with `shell: bash`, which
// both workflows set as their default (bash --noprofile --norc -eo
// pipefail; without it a step is `bash -e`, and a pipe into tee would hide
// secretboot's exit code), with the secretboot of this
// test binary on PATH, and returns its exit code and, when not 0, an
// error with its output.
func runStep(t *testing.T, dir string, env []string, script string) (int, error) {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), fmt.Errorf("step %q: %v\n%s", script, err, out)
	case err != nil:
		t.Fatalf("step %q: %v", script, err)
	}
	return 0, nil
}
