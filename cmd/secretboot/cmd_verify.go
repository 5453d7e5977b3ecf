package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

type verifyOptions struct {
	IO      IOStreams
	JSON    bool
	Offline bool
}

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
secretboot's own policies grant but not what other policies add.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	f.BoolVar(&opts.Offline, "offline", false, "evaluate secretboot's documents locally; no AWS access")
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
		if m, err = verify.Online(ctx, s.Simulator, roles, secrets); err != nil {
			return err
		}
	}
	r := verify.NewResult(d, mode, m)
	if opts.JSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(opts.IO.Out, "%s\n", b); err != nil {
			return err
		}
	} else if err := views.Verify(opts.IO.Out, r, opts.IO.Colors()); err != nil {
		return err
	}
	if !r.OK {
		return errReported
	}
	return nil
}
