package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// The git check runs a process and reads a repository, which is the CLI's
// business, not the spec language's: spec lists the payload files
// (Desired.PayloadFiles) and validate asks git about them here.

// trackedPayloadFiles returns the paths among paths (as in
// spec.Desired.PayloadFiles: relative to dir unless absolute) that git tracks in
// the work tree holding dir, sorted. A tracked payload file is in the
// repository's history, whatever secretboot does with it.
//
// It returns nothing when dir is not inside a git work tree or git is not
// installed: there is nothing to warn about then. Paths outside the work
// tree are never tracked by it.
func trackedPayloadFiles(dir string, paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// git reports the top level with symlinks resolved (/tmp → /private/tmp
	// on macOS); resolve dir alike so relative paths line up.
	if absDir, err = filepath.EvalSymlinks(absDir); err != nil {
		return nil, err
	}
	top, err := git(absDir, "rev-parse", "--show-toplevel")
	if err != nil {
		var ee *exec.ExitError
		if errors.Is(err, exec.ErrNotFound) || errors.As(err, &ee) {
			return nil, nil // no git, or not in a work tree
		}
		return nil, err
	}
	top = strings.TrimSuffix(top, "\n")

	// One ls-files call for all paths, named relative to the top level.
	byRepoPath := map[string][]string{}
	var pathspecs []string
	for _, p := range paths {
		full := p
		if !filepath.IsAbs(p) {
			full = filepath.Join(absDir, p)
		}
		rel, err := filepath.Rel(top, resolveDir(full))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		rel = filepath.ToSlash(rel)
		if byRepoPath[rel] == nil {
			pathspecs = append(pathspecs, rel)
		}
		byRepoPath[rel] = append(byRepoPath[rel], p)
	}
	if len(pathspecs) == 0 {
		return nil, nil
	}
	// --literal-pathspecs: a file named "*.pem" means that file, not a glob.
	out, err := git(top, append([]string{"--literal-pathspecs", "ls-files", "-z", "--full-name", "--"}, pathspecs...)...)
	if err != nil {
		return nil, err
	}
	var tracked []string
	for _, name := range strings.Split(out, "\x00") {
		tracked = append(tracked, byRepoPath[name]...)
		delete(byRepoPath, name) // a path listed twice (merge conflict stages) counts once
	}
	sort.Strings(tracked)
	return tracked, nil
}

// resolveDir resolves symlinks in the directory part of path, so that a path
// under a symlinked directory compares with git's top level. The file
// itself may be a symlink that git tracks as such; it is kept.
func resolveDir(path string) string {
	d, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return path
	}
	return filepath.Join(d, filepath.Base(path))
}

// git runs git in dir and returns its standard output. Errors carry git's
// standard error, which names paths only.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git: %s: %w", msg, err)
		}
		return "", err
	}
	return stdout.String(), nil
}

// trackedPayloadDiagnostics turns trackedPayloadFiles into warnings for
// validate: one per tracked file, or one saying the check could not run.
func trackedPayloadDiagnostics(dir string, paths []string) hcl.Diagnostics {
	tracked, err := trackedPayloadFiles(dir, paths)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagWarning,
			Summary:  "Cannot check payload files against git",
			Detail:   fmt.Sprintf("Checking whether file() and filebase64() payload files are tracked by git failed: %v.", err),
		}}
	}
	var diags hcl.Diagnostics
	for _, p := range tracked {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Payload file tracked by git",
			Detail: fmt.Sprintf("%s holds a secret payload and is tracked by git, so the payload is in the repository's history. "+
				"Untrack it (git rm --cached %s), ignore it in .gitignore, and rotate the secret if the history was ever pushed.", p, p),
		})
	}
	return diags
}
