package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
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
// GitHub environment, its variables and secrets and the credentials
// aws-actions/configure-aws-credentials gets for its SECRETBOOT_ROLE_ARN.
// Endpoint points the SDK at the sandbox instead of AWS.
type githubEnv struct {
	Endpoint     string
	Environments map[string]environment
}

type environment struct {
	Vars, Secrets map[string]string
	Creds         aws.Credentials
}

// expression is the one form of ${{ }} the example workflows use in what
// the test runs: a context property.
var expression = regexp.MustCompile(`\$\{\{\s*([a-z]+)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// expand replaces the ${{ }} expressions of s; one the test does not know
// fails it, so the workflows cannot outgrow what is checked.
func (g environment) expand(t *testing.T, s string, matrix map[string]string) string {
	t.Helper()
	s = expression.ReplaceAllStringFunc(s, func(m string) string {
		sub := expression.FindStringSubmatch(m)
		var ctx map[string]string
		switch sub[1] {
		case "vars":
			ctx = g.Vars
		case "secrets":
			ctx = g.Secrets
		case "matrix":
			ctx = matrix
		}
		v, ok := ctx[sub[2]]
		if !ok {
			t.Fatalf("expression %s: the test gives no value for it", m)
		}
		return v
	})
	if strings.Contains(s, "${{") {
		t.Fatalf("an expression the test cannot evaluate in %q", s)
	}
	return s
}

// stepEnv is the environment GitHub gives a run step: the runner's, the
// workflow's, the job's and the step's env (later ones win), and the AWS
// variables configure-aws-credentials exports once it has run.
func (g environment) stepEnv(t *testing.T, endpoint string, layers []*actionlint.Env, matrix map[string]string, region string) []string {
	t.Helper()
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "CI": "true", "GITHUB_ACTIONS": "true",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": endpoint,
	}
	for _, l := range layers {
		if l == nil {
			continue
		}
		for _, v := range l.Vars {
			vars[v.Name.Value] = g.expand(t, v.Value.Value, matrix)
		}
	}
	if region != "" { // configure-aws-credentials has run
		for k, v := range map[string]string{
			"AWS_REGION": region, "AWS_DEFAULT_REGION": region,
			"AWS_ACCESS_KEY_ID": g.Creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": g.Creds.SecretAccessKey, "AWS_SESSION_TOKEN": g.Creds.SessionToken,
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
func (g githubEnv) run(t *testing.T, repo, stage, script string) {
	t.Helper()
	e := g.Environments[stage]
	env := e.stepEnv(t, g.Endpoint, nil, nil, e.Vars["AWS_REGION"])
	runStep(t, repo, append(env, "SECRETBOOT_STAGE="+stage, "API_TOKEN="+e.Secrets["API_TOKEN"]), script)
}

// runWorkflow runs, in the repository, every step of the workflow's jobs
// for stage that invokes secretboot, in order, with the environment GitHub
// would give it. A job with a stage matrix runs its row for stage; a job
// runs when it has no GitHub environment or one of g's.
// actions/checkout, setup-go and the install step are the repository and
// the secretboot on PATH; configure-aws-credentials gives the credentials
// of the environment's token (see githubToken).
func runWorkflow(t *testing.T, repo, file, stage string, g githubEnv) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repo, ".github", "workflows", file))
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(src)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs[0])
	}
	ids := make([]string, 0, len(wf.Jobs))
	for id := range wf.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ran := 0
	for _, id := range ids {
		job := wf.Jobs[id]
		matrix := map[string]string{}
		if job.Strategy != nil && job.Strategy.Matrix != nil {
			row, ok := job.Strategy.Matrix.Rows["stage"]
			if !ok {
				t.Fatalf("%s job %s: a matrix without a stage row", file, id)
			}
			found := false
			for _, v := range row.Values {
				s, ok := v.(*actionlint.RawYAMLString)
				found = found || ok && s.Value == stage
			}
			if !found {
				continue // a job for other stages
			}
			matrix["stage"] = stage
		}
		var env environment // a job without an environment has no variables or secrets
		if job.Environment != nil {
			name := env.expand(t, job.Environment.Name.Value, matrix)
			var ok bool
			if env, ok = g.Environments[name]; !ok {
				continue // another stage's job
			}
		}
		region := ""
		for i, step := range job.Steps {
			switch x := step.Exec.(type) {
			case *actionlint.ExecAction:
				if strings.HasPrefix(x.Uses.Value, "aws-actions/configure-aws-credentials@") {
					if got := env.expand(t, x.Inputs["role-to-assume"].Value.Value, matrix); got != env.Vars["SECRETBOOT_ROLE_ARN"] {
						t.Fatalf("%s job %s: role-to-assume %s, want the environment's role", file, id, got)
					}
					region = env.expand(t, x.Inputs["aws-region"].Value.Value, matrix)
				}
			case *actionlint.ExecRun:
				if !invokesSecretboot(x.Run.Value) {
					continue
				}
				vars := env.stepEnv(t, g.Endpoint, []*actionlint.Env{wf.Env, job.Env, step.Env}, matrix, region)
				t.Logf("%s job %s step %d: %s", file, id, i+1, strings.TrimSpace(x.Run.Value))
				runStep(t, repo, vars, env.expand(t, x.Run.Value, matrix))
				ran++
			}
		}
	}
	if ran == 0 {
		t.Fatalf("%s: no secretboot step ran for stage %s", file, stage)
	}
}

// invokesSecretboot reports whether a run script calls secretboot as a
// command (not only installs it).
func invokesSecretboot(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "secretboot ") {
			return true
		}
	}
	return false
}

// runStep runs a script as GitHub's default shell for run steps on Linux
// does (bash --noprofile --norc -eo pipefail), with the secretboot of this
// test binary on PATH.
func runStep(t *testing.T, dir string, env []string, script string) {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("step %q: %v\n%s", script, err, out)
	}
}
