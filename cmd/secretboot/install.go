package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/secretboot/secretboot/internal/escape"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
	"github.com/secretboot/secretboot/templates"
)

// The forms of `policy -deployer -format`: the documents alone (json, as
// -json prints them) or an installer that an administrator applies once
// per stage. An installer is another rendering of the same documents, so
// it lives beside -json rather than in a command of its own (docs/ci.md).
const (
	formatJSON           = "json"
	formatTerraform      = "terraform"
	formatCloudFormation = "cloudformation"
)

// installerFile is what -dir DIR writes for each installer format, and
// the embedded template it renders.
var installerFile = map[string]struct{ name, template string }{
	formatTerraform:      {"main.tf", "deployer/main.tf.tmpl"},
	formatCloudFormation: {"secretboot-deployer.yaml", "deployer/cloudformation.yaml.tmpl"},
}

// GitHub Actions' OIDC issuer and the audience aws-actions/configure-aws-credentials asks for.
const (
	githubOIDCHost     = "token.actions.githubusercontent.com"
	githubOIDCAudience = "sts.amazonaws.com"
)

// maxRoleName is IAM's limit on a role name.
const maxRoleName = 64

// installer is what the templates render: the stage's documents as
// canonical JSON (those of `policy -deployer -json`) and the names of what
// the installer creates.
type installer struct {
	Project, Stage, Account string
	OIDCProviderARN         string // the account's GitHub OIDC provider, which an account has at most once

	BoundaryName, BoundaryPath, BoundaryDescription string
	BoundaryDocument, DeployerDocument              string
	ImportDocument                                  string

	// DeployerRoleName and DeployerRolePath are the stage's assume_role_arn
	// when it sets one; else the role is secretboot-<project>-<stage>-deployer at "/".
	DeployerRoleName, DeployerRolePath, DeployerRoleARN, DeployerRoleDescription string
	// GitHubRoleName is set only with assume_role_arn: secretboot then
	// assumes the deployer role itself (as SessionName), so GitHub's token
	// opens a second role that may only do that.
	GitHubRoleName, GitHubRoleDescription, SessionName string
	// PlanRoleName is the stage's plan role, which a pull request's review
	// assumes: ReviewerDocument (policy -reviewer), no secret value.
	PlanRoleName, PlanRoleDescription, ReviewerDocument string

	StackDescription, WrongAccount string
}

// newInstaller gathers the stage's documents and names. It refuses a
// stage whose deployer role could not hold the policy inline or would lie
// under the stage's own path, where the deployer manages roles.
func newInstaller(d *spec.Desired) (*installer, error) {
	deployer, err := provision.DeployerPolicy(d)
	if err != nil {
		return nil, err
	}
	b, err := provision.StageBoundary(d)
	if err != nil {
		return nil, err
	}
	imp, err := provision.ImportPolicy(d)
	if err != nil {
		return nil, err
	}
	// Its statements are some of the deployer policy's, so it fits inline
	// when that does.
	reviewer, err := provision.ReviewerPolicy(d)
	if err != nil {
		return nil, err
	}
	if n, m := policy.Size(deployer)+policy.Size(imp), policy.DefaultLimits.InlineMax; n > m {
		return nil, fmt.Errorf("the deployer and import policies need %d characters, more than a role's inline policies may hold (%d): install them yourself from policy -deployer -json, split over managed policies", n, m)
	}
	partition := strings.SplitN(b.ARN, ":", 3)[1]
	in := &installer{
		Project: d.Project, Stage: d.Stage, Account: d.AccountID,
		OIDCProviderARN:     "arn:" + partition + ":iam::" + d.AccountID + ":oidc-provider/" + githubOIDCHost,
		BoundaryName:        b.Name,
		BoundaryPath:        b.Path,
		BoundaryDescription: "secretboot permissions boundary of " + d.Project + "/" + d.Stage + ": every role of the stage carries it",
		BoundaryDocument:    string(b.Document.Canonical()),
		DeployerDocument:    string(deployer.Canonical()),
		ImportDocument:      string(imp.Canonical()),
		ReviewerDocument:    string(reviewer.Canonical()),
		PlanRoleName:        planRoleName(d),
		PlanRoleDescription: "reviews " + d.Project + "/" + d.Stage + " in pull requests: plan -no-payloads, policy -check; reads no secret value (secretboot policy -reviewer)",
		DeployerRoleName:    "secretboot-" + d.Project + "-" + d.Stage + "-deployer",
		DeployerRolePath:    "/",
		StackDescription:    "secretboot deployer of " + d.Project + "/" + d.Stage + ": permissions boundary, deployer role, GitHub Actions trust",
		WrongAccount:        "stage " + d.Stage + " of " + d.Project + " lives in account " + d.AccountID + ": apply this in that account",
	}
	in.DeployerRoleDescription = "runs secretboot for " + d.Project + "/" + d.Stage + " (secretboot policy -deployer)"
	if d.AssumeRoleARN != "" {
		// arn:<partition>:iam::<account>:role<path><name>, as validate checked.
		res := strings.TrimPrefix(strings.SplitN(d.AssumeRoleARN, ":", 6)[5], "role")
		i := strings.LastIndex(res, "/")
		in.DeployerRolePath, in.DeployerRoleName = res[:i+1], res[i+1:]
		in.GitHubRoleName = "secretboot-" + d.Project + "-" + d.Stage + "-github"
		in.GitHubRoleDescription = "GitHub Actions for " + d.Project + "/" + d.Stage + ": may only assume " + d.AssumeRoleARN
		in.SessionName = provision.SessionName(d.Stage)
		if strings.HasPrefix(in.DeployerRolePath, provision.RolePath(d)) {
			return nil, fmt.Errorf("assume_role_arn %s lies under the stage's path %s, where the deployer manages roles: give the deployer role another path", d.AssumeRoleARN, provision.RolePath(d))
		}
	}
	in.DeployerRoleARN = "arn:" + partition + ":iam::" + d.AccountID + ":role" + in.DeployerRolePath + in.DeployerRoleName
	for _, n := range []string{in.DeployerRoleName, in.GitHubRoleName, in.PlanRoleName} {
		if len(n) > maxRoleName {
			return nil, fmt.Errorf("role name %s is longer than IAM's %d characters: install the documents of policy -deployer -json yourself", n, maxRoleName)
		}
	}
	return in, nil
}

// render fills the installer template of format.
func (in *installer) render(format string) ([]byte, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"hcl": escape.HCLString,
		// The body of a canonical document never is a line "EOT": each
		// line of it is JSON.
		"heredoc": escape.HCLHeredoc,
		"yaml":    yamlString,
		"indent":  indentJSON,
	}).ParseFS(templates.FS, installerFile[format].template)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, filepath.Base(installerFile[format].template), in); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// yamlString is s as a YAML double-quoted scalar, whose escapes include
// JSON's.
func yamlString(s string) string { return escape.JSONString(s) }

// indentJSON indents every line of a canonical JSON document by n spaces,
// for YAML, of which JSON is a subset: the document is embedded as is.
func indentJSON(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad)
}

// runInstaller prints (or with dir, writes) the stage's installer in
// format, and on stderr what to do with it.
func runInstaller(opts policyOptions, format string, d *spec.Desired) error {
	in, err := newInstaller(d)
	if err != nil {
		return fmt.Errorf("stage %s: %w", d.Stage, err)
	}
	out, err := in.render(format)
	if err != nil {
		return err
	}
	if opts.Mask != nil {
		out = opts.Mask(out)
	}
	w := opts.IO.Err
	if opts.Dir == "" {
		if _, err := opts.IO.Out.Write(out); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", opts.Dir, err)
		}
		name := filepath.Join(opts.Dir, installerFile[format].name)
		if err := os.WriteFile(name, out, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		fmt.Fprintf(w, "Wrote %s for %s/%s.\n", name, d.Project, d.Stage)
	}
	role := in.DeployerRoleARN
	if in.GitHubRoleName != "" {
		role = "arn:" + strings.SplitN(in.DeployerRoleARN, ":", 3)[1] + ":iam::" + d.AccountID + ":role/" + in.GitHubRoleName
	}
	switch format {
	case formatTerraform:
		fmt.Fprintf(w, "Terraform module for %s/%s, to apply once in account %s with administrator rights: set github_repository (and github_environment, default %s).\n", d.Project, d.Stage, d.AccountID, d.Stage)
	case formatCloudFormation:
		fmt.Fprintf(w, "CloudFormation template for %s/%s, to deploy once in account %s with administrator rights (CAPABILITY_NAMED_IAM): set GitHubRepository (and GitHubEnvironment, default %s).\n", d.Project, d.Stage, d.AccountID, d.Stage)
	}
	fmt.Fprintf(w, "The stage's GitHub environment then assumes %s (docs/ci.md).\n", role)
	fmt.Fprintf(w, "Pull requests of the repository assume the plan role %s, which reads no secret value.\n",
		"arn:"+strings.SplitN(in.DeployerRoleARN, ":", 3)[1]+":iam::"+d.AccountID+":role/"+in.PlanRoleName)
	if d.NamePrefix == "" {
		fmt.Fprintf(w, "%s the stage's name_prefix is empty, so the deployer policy lets the deployer write every secret of the account and region; set a name_prefix.\n",
			opts.IO.Colors().Caution("Warning:"))
	}
	return nil
}

// checkFormat validates -format for -deployer.
func checkFormat(format string, asJSON bool) error {
	switch format {
	case "", formatJSON, formatTerraform, formatCloudFormation:
	default:
		return fmt.Errorf("-format %s: want %s, %s or %s", format, formatJSON, formatTerraform, formatCloudFormation)
	}
	if asJSON && format != "" && format != formatJSON {
		return errors.New("-json is -format json: choose one")
	}
	return nil
}

// planRoleName is the name of the stage's plan role, at "/": the example
// pull-request workflow derives its ARN from `stages -json` with it.
func planRoleName(d *spec.Desired) string {
	return "secretboot-" + d.Project + "-" + d.Stage + "-plan"
}
