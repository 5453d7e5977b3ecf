package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

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
every user, group, role and managed policy, 1,000 a call) and the resource
policy of each of the stage's secrets (GetResourcePolicy), and decides with
secretboot's policy evaluator which users and roles may GetSecretValue each
secret: through inline and attached policies, a user's groups, permissions
boundaries and the resource policy together.

It exits 1 when anything beyond the spec can read: a principal that is not
one of the secret's readers or the stage's deployer (an administrator, a
user with secretsmanager:*, a group policy), a resource policy that lets
another account or anyone read, a reader role whose trust policy lets
another account, anyone or any web identity of a provider assume it, or a
principal whose policies it cannot evaluate. A read that holds only under conditions audit cannot
decide (a source IP, MFA) is reported as conditional.

It does not see SCPs and RCPs, session policies, permission sets other
than through their roles, or KMS key policies; every output says so.`,
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
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		return err
	}
	r, err := audit.Run(ctx, d, o, iamc, smc)
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
		if err := renderAuditMarkdown(opts.IO.Out, r); err != nil {
			return err
		}
	default:
		if err := renderAudit(opts.IO.Out, r, opts.IO.ColorEnabled); err != nil {
			return err
		}
	}
	if !r.OK {
		return errReported
	}
	return nil
}

// accessBySecret groups r's readers by secret name.
func accessBySecret(r *audit.Result) map[string][]audit.Access {
	out := map[string][]audit.Access{}
	for _, a := range r.Access {
		out[a.Secret] = append(out[a.Secret], a)
	}
	return out
}

// readersOf names the spec's readers of s by the name at the end of
// their ARNs.
func readersOf(s audit.Secret) string {
	if len(s.Readers) == 0 {
		return "none"
	}
	names := make([]string, 0, len(s.Readers))
	for _, arn := range s.Readers {
		names = append(names, "role "+arn[strings.LastIndexByte(arn, '/')+1:])
	}
	return strings.Join(names, ", ")
}

func auditHeading(r *audit.Result) string {
	return fmt.Sprintf("secretboot audit · %s/%s · account %s · who may %s", r.Project, r.Stage, r.Account, r.Action)
}

func auditCounts(r *audit.Result) string {
	return fmt.Sprintf("read %s, %s, %s and %s", plural(r.Roles, "role"), plural(r.Users, "user"), plural(r.Groups, "group"), pluralVerb(r.Policies, "managed policy", "managed policies"))
}

// renderAudit prints, per secret, each principal that may read it (✓ a
// reader the spec names, ✗ one it does not, ? one whose read depends on
// conditions), then the findings and what audit does not see.
func renderAudit(w io.Writer, r *audit.Result, color bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", auditHeading(r), auditCounts(r))
	bySecret := accessBySecret(r)
	width := 0
	for _, a := range r.Access {
		width = max(width, len(a.Type)+1+len(a.Name))
	}
	for _, s := range r.Secrets {
		fmt.Fprintf(&b, "\nsecret %s", s.Name)
		switch {
		case !s.Exists:
			b.WriteString(" (does not exist yet: nothing to read)\n")
			continue
		case s.ResourcePolicy:
			b.WriteString(" (has a resource policy)")
		}
		fmt.Fprintf(&b, "\n  spec readers: %s\n", readersOf(s))
		for _, a := range bySecret[s.Name] {
			mark := paint(color, green, "✓")
			switch {
			case a.Conditional && !a.Expected:
				mark = paint(color, red, "?")
			case !a.Expected:
				mark = paint(color, red, "✗")
			}
			via := strings.Join(a.Sources, ", ")
			if a.Conditional {
				via += " (when its conditions hold)"
			}
			fmt.Fprintf(&b, "  %s %-*s  %s\n", mark, width, a.Type+" "+a.Name, via)
		}
	}
	b.WriteString("\n")
	if r.OK {
		fmt.Fprintf(&b, "%s nobody beyond the spec can read the stage's secrets.\n", paint(color, green, "Audited:"))
	} else {
		fmt.Fprintf(&b, "%s %s beyond the spec:\n", paint(color, red, "Exposed:"), plural(len(r.Findings), "finding"))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  %s: %s\n", f.Kind, f)
		}
	}
	b.WriteString("\nNot seen by audit:\n")
	for _, n := range r.NotSeen {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// renderAuditMarkdown prints the same as a table per stage, for a pull
// request comment.
func renderAuditMarkdown(w io.Writer, r *audit.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n%s.\n\n", auditHeading(r), auditCounts(r))
	b.WriteString("| Secret | Principal | Via | Spec |\n|---|---|---|---|\n")
	bySecret := accessBySecret(r)
	for _, s := range r.Secrets {
		if !s.Exists {
			fmt.Fprintf(&b, "| `%s` | — | does not exist yet | |\n", s.Name)
			continue
		}
		for _, a := range bySecret[s.Name] {
			spec := "✓ reader"
			switch {
			case a.Conditional && !a.Expected:
				spec = "**? beyond the spec, conditional**"
			case !a.Expected:
				spec = "**✗ beyond the spec**"
			}
			fmt.Fprintf(&b, "| `%s` | %s `%s` | %s | %s |\n", s.Name, a.Type, a.Name, strings.Join(a.Sources, ", "), spec)
		}
	}
	b.WriteString("\n")
	if r.OK {
		b.WriteString("**Audited:** nobody beyond the spec can read the stage's secrets.\n")
	} else {
		fmt.Fprintf(&b, "**Exposed: %s beyond the spec:**\n\n", plural(len(r.Findings), "finding"))
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s: %s\n", f.Kind, f)
		}
	}
	b.WriteString("\n<details><summary>Not seen by audit</summary>\n\n")
	for _, n := range r.NotSeen {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n</details>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
