package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/review"
	"github.com/secretboot/secretboot/spec"
)

type policyOptions struct {
	IO       IOStreams
	Dir      string // reviewer files go to <Dir>/<stage>/
	Check    bool
	Deployer bool // print the deployer's own policy instead
	Reviewer bool // print the plan role's policy instead
	JSON     bool // with Deployer: the deployer, boundary and import policies as one JSON object
	// Mask rewrites each file before it is written (the output masker).
	Mask provision.Mask
}

// policyDirDefault is what --help shows for -dir; the directory is
// resolved beside the spec so that the files sit in the same pull request.
const policyDirDefault = "<spec>/policies"

func newPolicyCmd(a *app) *cobra.Command {
	var (
		opts      policyOptions
		allStages bool
		format    string // with -deployer: json or an installer (install.go)
	)
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Write (or check) the per-role policy files reviewers read",
		Long: `policy writes, for the stage, the documents each role gets from the spec into
DIR/<stage>/: <role>.json (the read policy, exact ARNs of the secrets that
exist, "<name>-??????" for those apply has not created yet), <role>.trust.json
(the trust policy of a managed role), and <role>.managed-N.json instead of
<role>.json when a read policy exceeds the 10,240-character inline limit (less
what an external role's other inline policies take) and is split into managed
policies. Files are canonical JSON, byte-stable, so a
pull request shows exactly the grants that change.

With -check, nothing is written: policy lists the files that are missing,
changed or left over, with the grants that updating them would add (marked
BROADENS when they widen access) or remove, and exits 1 when any is stale.

With -deployer, policy prints on stdout, as canonical JSON, the identity
policy that the principal running secretboot for the stage needs (the
stage's assume_role_arn, or the CI role) and writes no file. It derives
everything from the spec and makes no AWS call. With -json it prints
instead what an administrator installs once per stage (docs/security.md):
{"deployer_policy": …, "boundary_policy": {"name", "path", "document"},
"import_policy": …}, the last being the separate grant that import needs.
With -dir DIR it writes them to DIR as deployer-policy.json,
boundary-policy.json and import-policy.json, canonical and byte-stable.
With -format terraform or -format cloudformation it prints (with -dir, writes
to DIR/main.tf or DIR/secretboot-deployer.yaml) an installer of the same
documents: the boundary, a deployer role holding the deployer policy, and its
trust in GitHub Actions' OIDC tokens for one repository and environment, and
the stage's plan role with the -reviewer policy, trusted by the repository's
pull requests (docs/ci.md).

With -reviewer, policy prints on stdout the identity policy of the stage's
plan role: what plan -no-payloads and policy -check need, reads of the
stage's structure and no secret value (not even the stage key). Like
-deployer it derives everything from the spec and makes no AWS call.

-check reads no secret value either: as plan -no-payloads, it takes the
ownership of secrets from their tags. With --no-assume-role, policy uses the
credentials as they are instead of assuming the stage's assume_role_arn, so
that a review's plan role can check a stage the deployer reaches that way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO, opts.Mask = a.streams, a.maskFile
			if opts.Reviewer {
				for _, f := range []string{"deployer", "check", "all-stages", "dir", "json", "format"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("-reviewer prints one stage's plan role policy on stdout; -%s does not apply (the installers of -deployer -format include the plan role)", f)
					}
				}
				d, err := a.loadStage(a.requestedStage(), noPayloads)
				if err != nil {
					return err
				}
				return runReviewerPolicy(opts, d)
			}
			if opts.Deployer {
				// The document goes to stdout, for the platform team's IAM
				// change; it is not a reviewer file, which the other flags
				// are about.
				for _, f := range []string{"check", "all-stages"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("-deployer prints one stage's policy on stdout; -%s does not apply", f)
					}
				}
				if !cmd.Flags().Changed("dir") {
					opts.Dir = ""
				}
				if err := checkFormat(format, opts.JSON); err != nil {
					return err
				}
				opts.JSON = opts.JSON || format == formatJSON
				if opts.JSON && opts.Dir != "" {
					return errors.New("-json prints the policies on stdout, -dir writes them to files: choose one")
				}
				d, err := a.loadStage(a.requestedStage(), noPayloads)
				if err != nil {
					return err
				}
				if _, ok := installerFile[format]; ok {
					return runInstaller(opts, format, d)
				}
				return runDeployerPolicy(opts, d)
			}
			if opts.JSON || format != "" {
				return errors.New("-json and -format apply to -deployer only")
			}
			if opts.Dir == "" || opts.Dir == policyDirDefault {
				opts.Dir = filepath.Join(a.common.specDir, "policies")
			}
			stages := []string{a.requestedStage()}
			if allStages {
				if a.common.stage != "" {
					return errors.New("--stage and -all-stages exclude each other")
				}
				cfg, diags := spec.Load(a.common.specDir)
				if err := a.showDiags(cfg, diags); err != nil {
					return err
				}
				stages = cfg.Stages()
			}
			stale := 0
			for _, stage := range stages {
				err := a.withStage(cmd.Context(), stage, noPayloads, func(d *spec.Desired, s *provision.Session) error {
					n, err := runPolicy(cmd.Context(), opts, d, s)
					stale += n
					return err
				})
				if err != nil {
					return err
				}
			}
			if opts.Check && stale > 0 {
				fmt.Fprintf(opts.IO.Err, "%s %s stale; run secretboot policy to update\n",
					opts.IO.Colors().Bad("Error:"), pluralVerb(stale, "policy file is", "policy files are"))
				return errReported
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", policyDirDefault, "write the files under `DIR`/<stage>/")
	f.BoolVar(&opts.Check, "check", false, "write nothing; exit 1 when the files on disk are stale")
	f.BoolVar(&allStages, "all-stages", false, "every stage of the spec, one after the other")
	f.BoolVar(&opts.Deployer, "deployer", false, "print the policy the deployer of the stage needs; no AWS access")
	f.BoolVar(&opts.Reviewer, "reviewer", false, "print the policy of the stage's plan role (plan -no-payloads, policy -check); no AWS access")
	f.BoolVar(&opts.JSON, "json", false, "with -deployer: print the deployer, boundary and import policies as one JSON object")
	f.StringVar(&format, "format", "", "with -deployer: `FORMAT` json (as -json), terraform or cloudformation (an installer, docs/ci.md)")
	addNoAssumeRoleFlag(cmd, a)
	return cmd
}

// runReviewerPolicy prints the stage's plan role policy on stdout and what
// to do with it on stderr.
func runReviewerPolicy(opts policyOptions, d *spec.Desired) error {
	doc, err := provision.ReviewerPolicy(d)
	if err != nil {
		return fmt.Errorf("stage %s: %w", d.Stage, err)
	}
	if _, err := opts.IO.Out.Write(doc.Canonical()); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "Plan role policy for %s/%s, %d characters: attach it to the role a pull request's review assumes, for plan -no-payloads and policy -check; it reads no secret value (docs/ci.md).\n",
		d.Project, d.Stage, policy.Size(doc))
	return nil
}

// runDeployerPolicy prints the stage's deployer policy on stdout (or, with
// -json, the installer's object; with -dir, writes the files) and what to
// do with it on stderr, so that stdout can be redirected to a file.
func runDeployerPolicy(opts policyOptions, d *spec.Desired) error {
	doc, err := provision.DeployerPolicy(d)
	if err != nil {
		return fmt.Errorf("stage %s: %w", d.Stage, err)
	}
	b, err := provision.StageBoundary(d)
	if err != nil {
		return fmt.Errorf("stage %s: %w", d.Stage, err)
	}
	imp, err := provision.ImportPolicy(d)
	if err != nil {
		return fmt.Errorf("stage %s: %w", d.Stage, err)
	}
	switch {
	case opts.JSON:
		if _, err := opts.IO.Out.Write(installerJSON(doc, b, imp)); err != nil {
			return err
		}
	case opts.Dir != "":
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", opts.Dir, err)
		}
		for _, f := range []struct {
			name string
			doc  *policy.Document
		}{{"deployer-policy.json", doc}, {"boundary-policy.json", b.Document}, {"import-policy.json", imp}} {
			content := f.doc.Canonical()
			if opts.Mask != nil {
				content = opts.Mask(content)
			}
			if err := os.WriteFile(filepath.Join(opts.Dir, f.name), content, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", f.name, err)
			}
		}
		fmt.Fprintf(opts.IO.Err, "Wrote deployer-policy.json, boundary-policy.json and import-policy.json for %s/%s to %s.\n", d.Project, d.Stage, opts.Dir)
	default:
		if _, err := opts.IO.Out.Write(doc.Canonical()); err != nil {
			return err
		}
	}
	w := opts.IO.Err
	who := "the principal that runs secretboot for the stage"
	if d.AssumeRoleARN != "" {
		who = d.AssumeRoleARN + " (the stage's assume_role_arn)"
	}
	fmt.Fprintf(w, "Deployer policy for %s/%s, %d characters: attach it to %s.\n", d.Project, d.Stage, policy.Size(doc), who)
	switch n := policy.Size(doc); {
	case n > policy.DefaultLimits.InlineMax:
		fmt.Fprintf(w, "It is larger than an inline policy (%d characters) or a customer managed policy (%d) may be: split its statements over several managed policies.\n",
			policy.DefaultLimits.InlineMax, policy.DefaultLimits.ManagedMax)
	case n > policy.DefaultLimits.ManagedMax:
		fmt.Fprintf(w, "It is larger than a customer managed policy may be (%d characters): attach it inline (up to %d), or split its statements.\n",
			policy.DefaultLimits.ManagedMax, policy.DefaultLimits.InlineMax)
	}
	fmt.Fprintf(w, "Install first the stage's permissions boundary, customer managed policy %s at path %s, which every role of the stage carries; the deployer may not create or change it.\n", b.Name, b.Path)
	if d.NamePrefix == "" {
		fmt.Fprintf(w, "%s the stage's name_prefix is empty, so the policy lets the deployer write every secret of the account and region; set a name_prefix.\n",
			opts.IO.Colors().Bad("Warning:"))
	}
	return nil
}

// runPolicy writes or checks one stage's files and returns how many were
// stale.
func runPolicy(ctx context.Context, opts policyOptions, d *spec.Desired, s *provision.Session) (int, error) {
	// The check needs no secret value, so a review's plan role can run
	// it; writing the files reads the stage key, as apply would, to name
	// only the secrets secretboot is proven to own.
	observe := provision.Observe
	if opts.Check {
		observe = provision.ObserveStructure
	}
	o, err := observe(ctx, s, d)
	if err != nil {
		return 0, err
	}
	in := provision.Resolve(d, o)
	docs, err := in.Documents()
	if err != nil {
		return 0, err
	}
	stale, err := review.Check(opts.Dir, d.Stage, docs, in.Secrets)
	if err != nil {
		return 0, err
	}
	out, colors := opts.IO.Out, opts.IO.Colors()
	stageDir := filepath.Join(opts.Dir, d.Stage)
	if opts.Check {
		if len(stale) == 0 {
			fmt.Fprintf(out, "Policy files for %s/%s in %s are up to date (%s).\n", d.Project, d.Stage, stageDir, views.Plural(len(review.Files(docs, in.Secrets)), "file"))
			return 0, nil
		}
		fmt.Fprintf(out, "Policy files for %s/%s in %s:\n", d.Project, d.Stage, stageDir)
		views.PolicyStale(out, colors, stale)
		return len(stale), nil
	}
	if _, err := review.Write(opts.Dir, d.Stage, docs, in.Secrets, opts.Mask); err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "Policy files for %s/%s in %s:\n", d.Project, d.Stage, stageDir)
	byPath := map[string]review.Stale{}
	for _, s := range stale {
		byPath[s.Path] = s
	}
	for _, f := range review.Files(docs, in.Secrets) {
		p := filepath.Join(stageDir, f.Name)
		if s, ok := byPath[p]; ok {
			views.PolicyWritten(out, colors, s)
			continue
		}
		fmt.Fprintf(out, "  = %s  (unchanged)\n", f.Name)
	}
	for _, s := range stale {
		if s.Problem == review.Extra {
			views.PolicyWritten(out, colors, s)
		}
	}
	views.PolicyNotes(out, docs)
	return 0, nil
}

func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// installerJSON is the -json form of -deployer: the documents an
// administrator installs, canonical (2-space indent, keys in a fixed
// order, trailing newline) so that the bytes are stable.
func installerJSON(deployer *policy.Document, b *provision.Boundary, imp *policy.Document) []byte {
	type boundary struct {
		Name     string          `json:"name"`
		Path     string          `json:"path"`
		Document json.RawMessage `json:"document"`
	}
	v := struct {
		Deployer json.RawMessage `json:"deployer_policy"`
		Boundary boundary        `json:"boundary_policy"`
		Import   json.RawMessage `json:"import_policy"`
	}{deployer.Canonical(), boundary{b.Name, b.Path, b.Document.Canonical()}, imp.Canonical()}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("encoding canonical policies: " + err.Error()) // RawMessages of valid JSON and strings always encode
	}
	return append(out, '\n')
}
