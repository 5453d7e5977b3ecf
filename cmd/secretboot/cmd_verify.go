package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

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
	docs, err := provision.RoleDocumentsOf(d, o)
	if err != nil {
		return err
	}
	roles, secrets := verify.Targets(d, docs, provision.SecretRefs(d, o))
	var m *verify.Matrix
	if s == nil {
		m = verify.Offline(docs, secrets)
	} else {
		sim, ok := s.IAM.(verify.Simulator)
		if !ok {
			return errors.New("verify: the IAM client cannot simulate policies")
		}
		// Roles under the stage's path that the spec does not name are
		// checked too: the spec grants them nothing.
		roles = append(roles, verify.Unlisted(d, o)...)
		if m, err = verify.Online(ctx, sim, roles, secrets); err != nil {
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
	} else if err := renderVerify(opts.IO.Out, r, opts.IO.ColorEnabled); err != nil {
		return err
	}
	if !r.OK {
		return errReported
	}
	return nil
}

// verifyColumn is an action's column heading: Secrets Manager actions by
// name alone, the KMS one with its service, which is not the secret's.
func verifyColumn(action string) string {
	return strings.TrimPrefix(action, "secretsmanager:")
}

// renderVerify prints one table per role: a row per secret, a column per
// action of r.Actions, ✓ for allowed and ✗ for denied, with "!" after a
// cell that differs from the spec; then the differences, one per line. The
// kms:Decrypt column, shown only when some secret has a customer managed
// key, is blank for the secrets without one.
func renderVerify(w io.Writer, r *verify.Result, color bool) error {
	var b strings.Builder
	// Offline, nothing need exist: pending secrets are evaluated at their
	// "<name>-??????" pattern.
	online := r.Mode == verify.Simulated
	how := "simulated by IAM (SimulatePrincipalPolicy)"
	if !online {
		how = "offline, secretboot's documents only"
	}
	fmt.Fprintf(&b, "secretboot verify · %s/%s · %s\n", r.Project, r.Stage, how)

	expected := map[[3]string]bool{}
	for _, c := range r.Expected {
		expected[[3]string{c.Role, c.Secret, c.Action}] = true
	}
	actual := map[[3]string]verify.Cell{}
	for _, c := range r.Cells {
		actual[[3]string{c.Role, c.Secret, c.Action}] = c
	}
	width := len("secret")
	for _, s := range r.Secrets {
		width = max(width, utf8.RuneCountInString(s.Name))
	}
	for _, role := range r.Roles {
		name := role.Name
		switch {
		case role.External:
			name = "external " + role.ARN
		case role.Unlisted:
			name = "not in the spec: " + role.ARN
		}
		fmt.Fprintf(&b, "\nrole %s (%s)\n", role.Key, name)
		if online && !role.Exists {
			fmt.Fprintf(&b, "  not verified: the role does not exist\n")
			continue
		}
		fmt.Fprintf(&b, "  %-*s", width, "secret")
		for _, a := range r.Actions {
			fmt.Fprintf(&b, "  %s", verifyColumn(a))
		}
		b.WriteString("\n")
		for _, s := range r.Secrets {
			fmt.Fprintf(&b, "  %-*s", width, s.Name)
			for _, a := range r.Actions {
				key := [3]string{role.Key, s.Name, a}
				c, ok := actual[key]
				mark := "-"
				switch {
				case a == verify.KMSDecrypt && s.KMSKeyARN == "":
					mark = ""
				case !ok:
				case c.Allowed != expected[key]:
					mark = paint(color, red, symbol(c.Allowed)+"!")
				case c.Allowed:
					mark = paint(color, green, symbol(true))
				default:
					mark = symbol(false)
				}
				pad := len(verifyColumn(a)) - visibleLen(mark)
				fmt.Fprintf(&b, "  %s%s", mark, strings.Repeat(" ", pad))
			}
			if online && !s.Exists {
				b.WriteString("  (does not exist yet)")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	if r.OK {
		fmt.Fprintf(&b, "%s each role can do exactly what the spec grants (%s).\n",
			paint(color, green, "Verified:"), plural(len(r.Cells), "decision"))
	} else {
		fmt.Fprintf(&b, "%s %s from the spec:\n", paint(color, red, "Not verified:"), plural(len(r.Differences), "difference"))
		for _, d := range r.Differences {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	// Padding leaves trailing blanks on rows; terminals and diffs do not
	// need them.
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

func symbol(allowed bool) string {
	if allowed {
		return "✓"
	}
	return "✗"
}

// visibleLen counts the characters a terminal shows, skipping ANSI
// colour sequences.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}
