package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

type verifyOptions struct {
	IO       IOStreams
	JSON     bool
	Markdown bool
	// MarkdownLimit cuts the Markdown to this many characters.
	MarkdownLimit int
	Format        string // text, json, markdown or dot; -json and -markdown set it
	Offline       bool
}

// verifyFormats are the values of verify -format.
var verifyFormats = []string{"text", "json", "markdown", "dot"}

func newVerifyCmd(a *app) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Prove that each role can do exactly what the spec grants on the stage's secrets",
		Long: `verify asks IAM (SimulatePrincipalPolicy) whether each role of the stage may
GetSecretValue, DescribeSecret, PutSecretValue and DeleteSecret on each
secret of the stage and on its stage key (one call per role), and
kms:Decrypt on the customer managed key of each secret that has one, in the
context Secrets Manager uses to decrypt that secret (one call per role and
such secret). It prints the matrix and exits 1 when it differs from the
spec, where readers may read and decrypt their secrets: access the spec
does not grant (from any policy attached to the role, such as an
administrator policy), access it grants that is denied, or a role or
secret that does not exist yet. External roles are checked too.

With --offline, no AWS call is made: the matrix is computed with the local
evaluator from the documents secretboot synthesizes, which shows what
secretboot's own policies grant but not what other policies add.

-markdown prints the verdict, a Mermaid diagram of who reads what and the
matrix as a table, for a pull-request comment; -format dot prints the same
diagram for Graphviz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolveFormat(cmd.Flags().Changed("format")); err != nil {
				return err
			}
			opts.IO = a.streams
			if opts.Offline {
				d, err := a.loadStage(a.requestedStage(), noPayloads)
				if err != nil {
					return err
				}
				return runVerify(cmd.Context(), opts, d, nil)
			}
			return a.withStage(cmd.Context(), a.requestedStage(), noPayloads, func(d *spec.Desired, s *provision.Session) error {
				return runVerify(cmd.Context(), opts, d, s)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "print the matrix and the differences as JSON")
	f.BoolVar(&opts.Markdown, "markdown", false, "print the verdict, a diagram and the matrix as Markdown, for pull-request comments")
	f.IntVar(&opts.MarkdownLimit, "markdown-limit", views.CommentLimit, "with -markdown, cut the output to `N` characters")
	f.StringVar(&opts.Format, "format", "text", "output `FORMAT`: text, json, markdown or dot (the diagram for Graphviz)")
	f.BoolVar(&opts.Offline, "offline", false, "evaluate secretboot's documents locally; no AWS access")
	addNoAssumeRoleFlag(cmd, a)
	return cmd
}

// runVerify computes the matrix (online when s is set), renders it and
// turns differences into exit code 1.
func runVerify(ctx context.Context, opts verifyOptions, d *spec.Desired, s *provision.Session) error {
	var (
		o    *provision.Observed
		err  error
		mode = verify.Local
	)
	if s != nil {
		mode = verify.Simulated
		if o, err = provision.Observe(ctx, s, d); err != nil {
			return err
		}
	}
	// One resolution for the documents and the secrets' ARNs.
	in := provision.Resolve(d, o)
	docs, err := in.Documents()
	if err != nil {
		return err
	}
	roles, secrets := verify.Targets(d, docs, in.Secrets)
	var m *verify.Matrix
	if s == nil {
		m = verify.Offline(docs, secrets)
	} else {
		// Roles under the stage's path that the spec does not name are
		// checked too: the spec grants them nothing.
		roles = append(roles, verify.Unlisted(d, o)...)
		if secrets, err = verify.LiveResourcePolicies(secrets, o); err != nil {
			return err
		}
		if m, err = verify.Online(ctx, s.Simulator, roles, secrets); err != nil {
			return err
		}
	}
	r := verify.NewResult(d, mode, m)
	switch opts.Format {
	case "json":
		var b []byte
		if b, err = json.MarshalIndent(r, "", "  "); err == nil {
			_, err = fmt.Fprintf(opts.IO.Out, "%s\n", b)
		}
	case "markdown":
		err = views.VerifyMarkdownWithin(opts.IO.Out, r, opts.MarkdownLimit)
	case "dot":
		err = views.VerifyDOT(opts.IO.Out, r)
	default:
		err = views.Verify(opts.IO.Out, r, opts.IO.Colors())
	}
	if err != nil {
		return err
	}
	if !r.OK {
		return errReported
	}
	return nil
}

// resolveFormat folds -json and -markdown into Format, refusing flags
// that ask for different formats.
func (o *verifyOptions) resolveFormat(formatSet bool) error {
	if o.MarkdownLimit < 1 {
		return errors.New("-markdown-limit must be positive")
	}
	if !slices.Contains(verifyFormats, o.Format) {
		return fmt.Errorf("-format %q: want one of %s", o.Format, strings.Join(verifyFormats, ", "))
	}
	picked := map[string]string{} // format → the flag that asks for it
	if formatSet {
		picked[o.Format] = "-format " + o.Format
	}
	if o.JSON {
		picked["json"] = "-json"
	}
	if o.Markdown {
		picked["markdown"] = "-markdown"
	}
	if len(picked) > 1 {
		flags := slices.Sorted(maps.Values(picked))
		return fmt.Errorf("%s exclude each other", strings.Join(flags, " and "))
	}
	for f := range picked {
		o.Format = f
	}
	return nil
}
