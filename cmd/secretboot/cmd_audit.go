package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/audit"
	"github.com/secretboot/secretboot/spec"
)

type auditOptions struct {
	IO       IOStreams
	JSON     bool
	Markdown bool
}

func newAuditCmd(a *app) *cobra.Command {
	var opts auditOptions
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List everyone in the account who can read the stage's secrets, and what the spec does not grant",
		Long: `audit reads the account's whole IAM configuration (GetAccountAuthorizationDetails:
every user, group, role and managed policy, 1,000 a call; with account_iam_read
the roles and customer managed policies that plan's observation read are not
read again), the resource policy of each of the stage's secrets that the
observation did not read (GetResourcePolicy), and the key policy of each
customer managed key of the account that a secret or a replica uses
(GetKeyPolicy, in the key's region). It decides with secretboot's policy
evaluator which users and roles may GetSecretValue each secret, each replica
as a secret of its own: through inline and attached policies, a user's
groups, permissions boundaries and the resource policy together, and under a
customer managed key only if the key policy lets them decrypt it too.

It exits 1 when anything beyond the spec can read: a principal that is not
one of the secret's readers or the stage's deployer (an administrator, a
user with secretsmanager:*, a group policy), a resource policy that lets
another account or anyone read, a key policy that lets a principal beyond
the secret's readers decrypt it, a reader role whose trust policy lets
another account, anyone or any web identity of a provider assume it, or a
principal whose policies it cannot evaluate. A read that holds only under
conditions audit cannot decide (a source IP, MFA) is reported as conditional.

audit reads every principal's policies, which the deployer's policy does
not allow: run it with an auditor's read-only credentials and
--no-assume-role when the stage sets assume_role_arn.

It does not see SCPs and RCPs, session policies, permission sets other
than through their roles, KMS grants, the key policies of keys in other
accounts, or a key changed outside the spec; every output says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.JSON && opts.Markdown {
				return errors.New("-json and -markdown exclude each other")
			}
			opts.IO = a.streams
			return a.withStage(cmd.Context(), a.requestedStage(), noPayloads, func(d *spec.Desired, s *provision.Session) error {
				return runAudit(cmd.Context(), opts, d, s)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "print the readers and the findings as JSON")
	f.BoolVar(&opts.Markdown, "markdown", false, "print the audit as Markdown, for pull-request comments")
	addNoAssumeRoleFlag(cmd, a)
	return cmd
}

// runAudit observes the stage, audits the account and renders the result;
// findings become exit code 1.
func runAudit(ctx context.Context, opts auditOptions, d *spec.Desired, s *provision.Session) error {
	iamc, ok := s.IAM.(audit.IAMReader)
	if !ok {
		return errors.New("audit: the IAM client cannot read the account's authorization details")
	}
	smc, ok := s.SecretsManager.(audit.PolicyReader)
	if !ok {
		return errors.New("audit: the Secrets Manager client cannot read resource policies")
	}
	o, err := provision.ObserveWith(ctx, s, d, provision.ObserveOptions{KeepAccountRead: true})
	if err != nil {
		return err
	}
	r, err := audit.Run(ctx, d, o, iamc, smc, s.KMS)
	if err != nil {
		return err
	}
	switch {
	case opts.JSON:
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(opts.IO.Out, "%s\n", b)
		if err != nil {
			return err
		}
	case opts.Markdown:
		if err := views.AuditMarkdown(opts.IO.Out, r); err != nil {
			return err
		}
	default:
		if err := views.Audit(opts.IO.Out, r, opts.IO.Colors()); err != nil {
			return err
		}
	}
	if !r.OK {
		return errReported
	}
	return nil
}
