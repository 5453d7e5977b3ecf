package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/spec"
)

// gitRepo makes a work tree at root/repo with the spec in repo/infra:
// committed, staged, untracked and ignored payload files, one with glob
// characters and spaces in its name, and one outside the repository.
func gitRepo(t *testing.T) (root, specDir string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root = t.TempDir()
	repo := filepath.Join(root, "repo")
	specDir = filepath.Join(repo, "infra")
	files := map[string]string{
		"repo/.gitignore":               "*.ignored\n",
		"repo/infra/main.hcl":           "project = \"p\"\n",
		"repo/infra/committed.pem":      "k1",
		"repo/infra/keys/staged.der":    "k2",
		"repo/infra/untracked.txt":      "k3",
		"repo/infra/local.ignored":      "k4",
		"repo/infra/glob *[x].txt":      "k5",
		"repo/infra/glob a[x].txt":      "k6", // matched by the glob above if it were one
		"repo/shared/committed-too.txt": "k7",
		"outside.txt":                   "k8",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, repo, "init", "-q")
	runGit(t, repo, "add", ".gitignore", "infra/main.hcl", "infra/committed.pem", "infra/glob *[x].txt", "shared/committed-too.txt")
	runGit(t, repo, "commit", "-q", "-m", "initial")
	runGit(t, repo, "add", "infra/keys/staged.der")
	return root, specDir
}

func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	// The developer's global configuration (hooks, excludes) stays out.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestTrackedPayloadFiles(t *testing.T) {
	root, specDir := gitRepo(t)
	tests := []struct {
		name  string
		dir   string
		paths []string
		want  []string
	}{
		{"none", specDir, nil, nil},
		{"committed and staged are tracked", specDir,
			[]string{"untracked.txt", "keys/staged.der", "committed.pem", "local.ignored", "missing.txt"},
			[]string{"committed.pem", "keys/staged.der"}},
		{"glob characters are literal", specDir, []string{"glob a[x].txt", "glob *[x].txt"}, []string{"glob *[x].txt"}},
		{"relative path leaving the spec directory", specDir, []string{"../shared/committed-too.txt"}, []string{"../shared/committed-too.txt"}},
		{"absolute path inside the work tree", specDir,
			[]string{filepath.Join(specDir, "committed.pem")}, []string{filepath.Join(specDir, "committed.pem")}},
		{"outside the work tree", specDir, []string{"../../outside.txt", filepath.Join(root, "outside.txt")}, nil},
		{"same file twice", specDir, []string{"committed.pem", "./committed.pem"}, []string{"./committed.pem", "committed.pem"}},
		{"spec directory not in a work tree", root, []string{"outside.txt"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trackedPayloadFiles(tt.dir, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("trackedPayloadFiles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrackedPayloadFilesWithoutGit(t *testing.T) {
	root, specDir := gitRepo(t)
	t.Setenv("PATH", root) // no git binary there
	got, err := trackedPayloadFiles(specDir, []string{"committed.pem"})
	if err != nil || got != nil {
		t.Errorf("trackedPayloadFiles without git = %q, %v; want nothing", got, err)
	}
}

// TestPayloadFilesRecorded checks the other half: Evaluate lists every file
// that file() and filebase64() read, wherever in the spec, and validate's
// warnings name the tracked ones without quoting their contents.
func TestPayloadFilesRecorded(t *testing.T) {
	_, specDir := gitRepo(t)
	src := `project = "p"

stage "dev" {
  region = "us-east-1"
}

role "web" {}

secret "a" {
  readers = [role.web]
  value   = { cert = file("committed.pem"), key = file("untracked.txt") }
}

secret "b" {
  readers = [role.web]
  binary  = filebase64("keys/staged.der")
}

secret "c" {
  readers = [role.web]
  value   = format("%s-%s", file("committed.pem"), file("local.ignored"))
}
`
	if err := os.WriteFile(filepath.Join(specDir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := spec.Load(specDir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d, diags := cfg.Evaluate("dev", spec.EvalOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"committed.pem", "keys/staged.der", "local.ignored", "untracked.txt"}, d.PayloadFiles); diff != "" {
		t.Errorf("PayloadFiles (-want +got):\n%s", diff)
	}

	got := trackedPayloadDiagnostics(cfg.Dir, d.PayloadFiles)
	var summaries []string
	for _, diag := range got {
		if diag.Severity != hcl.DiagWarning {
			t.Errorf("severity %v, want a warning", diag.Severity)
		}
		if strings.Contains(diag.Detail, "k1") || strings.Contains(diag.Detail, "k2") {
			t.Errorf("warning quotes a payload: %s", diag.Detail)
		}
		summaries = append(summaries, diag.Summary+": "+strings.Fields(diag.Detail)[0])
	}
	want := []string{"Payload file tracked by git: committed.pem", "Payload file tracked by git: keys/staged.der"}
	if diff := cmp.Diff(want, summaries); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
