package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

type applyOptions struct {
	IO          IOStreams
	PlanFile    string // apply this saved plan; "" = plan now
	AutoApprove bool
	Destroy     bool
	Regenerate  []string
	Parallelism int
}

func newApplyCmd(a *app) *cobra.Command {
	var opts applyOptions
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE]",
		Short: "Make the stage match the spec",
		Long: `apply plans like plan, asks for confirmation and applies: roles, then
secrets, then read policies, then instance profiles, in parallel where
independent. Every write is idempotent, so rerunning after a failure
converges.

With PLANFILE (from plan -out) apply re-resolves the payload sources,
re-reads the stage and refuses the plan if the spec or AWS changed since;
it does not ask for confirmation, the plan was the review.

Outside a terminal, apply without PLANFILE needs -auto-approve.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
				if len(opts.Regenerate) > 0 {
					return errors.New("--regenerate belongs to the plan; it cannot change a saved plan")
				}
			}
			opts.IO = a.streams
			opts.Parallelism = a.common.parallelism
			return a.runApply(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	addRegenerateFlag(cmd, &opts.Regenerate)
	a.addIAMWriteRateFlag(cmd)
	return cmd
}

// addIAMWriteRateFlag adds --iam-write-rate to a command that writes to
// IAM. The account's IAM writes share one bucket whose size AWS does not
// publish, so the rate is the operator's call (docs/performance.md).
func (a *app) addIAMWriteRateFlag(cmd *cobra.Command) {
	cmd.Flags().Float64Var(&a.common.iamWriteRate, "iam-write-rate", 0,
		fmt.Sprintf("IAM writes a second, 1 to %d (default $SECRETBOOT_IAM_WRITE_RATE, else %d); raise it only in an account whose IAM write quota you know",
			provision.MaxIAMWriteRate, provision.DefaultIAMWriteRate))
}

func newDestroyCmd(a *app) *cobra.Command {
	opts := applyOptions{Destroy: true}
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Remove everything secretboot owns in the stage",
		Long: `destroy schedules every secret the stage owns for deletion (with its recovery
window, so it can be restored) and deletes the roles, instance profiles and
read policies it owns. Resources secretboot does not own are never touched.
It asks for confirmation unless -auto-approve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = a.streams
			opts.Parallelism = a.common.parallelism
			return a.runApply(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "destroy without asking for confirmation")
	a.addIAMWriteRateFlag(cmd)
	return cmd
}

func (a *app) runApply(ctx context.Context, opts applyOptions) error {
	requested := a.requestedStage()
	var saved *provision.Plan
	if opts.PlanFile != "" {
		p, err := provision.ReadPlanFile(opts.PlanFile)
		if err != nil {
			return err
		}
		// Refused before the stage is evaluated: the payload sources it
		// would ask for are beside the point.
		if p.PayloadsNotCompared {
			return provision.ErrPlanWithoutPayloads
		}
		saved = p
		if requested == "" {
			requested = p.Header.Stage
		}
	}
	// Destroying writes no payload, so it runs without the payload sources.
	use := needsPayloads
	if opts.Destroy || saved != nil && saved.Destroy {
		use = noPayloads
	}
	return a.withStage(ctx, requested, use, func(d *spec.Desired, s *provision.Session) error {
		p := saved
		if p == nil {
			var err error
			p, err = computePlan(ctx, d, s, provision.DiffOptions{Destroy: opts.Destroy, Regenerate: opts.Regenerate})
			if err != nil {
				return err
			}
			if err := views.Text(opts.IO.Out, p, opts.IO.Colors()); err != nil {
				return err
			}
			if p.Empty() {
				return nil
			}
			if !opts.AutoApprove {
				if err := confirm(opts.IO, p); err != nil {
					return err
				}
			}
		} else {
			fmt.Fprintf(opts.IO.Out, "Applying the saved plan %s to %s/%s.\n", opts.PlanFile, p.Header.Project, p.Header.Stage)
		}
		fmt.Fprintln(opts.IO.Out)
		progress := views.NewProgress(opts.IO.Out, opts.IO.Colors(), opts.IO.IsTTY, len(p.Changes))
		res, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{Parallelism: opts.Parallelism, Observer: progress})
		progress.Done()
		// A partial apply also gets its summary: what was done, and what the
		// retries and throttles were, is what the rerun needs to know.
		var partial *provision.ApplyError
		if errors.As(err, &partial) {
			res = partial.Result
		}
		if res != nil {
			verb := "Apply"
			if p.Destroy {
				verb = "Destroy"
			}
			fmt.Fprintln(opts.IO.Out)
			if serr := views.ApplySummary(opts.IO.Out, verb, res); serr != nil {
				return serr
			}
		}
		return err
	})
}

// confirm asks a person to approve the plan; only "yes" approves. Without a
// terminal nobody can answer, so that is an error rather than a hang.
func confirm(streams IOStreams, p *provision.Plan) error {
	if !streams.IsTTY {
		return errors.New("not running in a terminal, so nobody can confirm: review the plan and pass -auto-approve, or apply a saved plan (plan -out FILE, then apply FILE)")
	}
	what := "apply these changes to"
	if p.Destroy {
		what = "destroy everything secretboot owns in"
	}
	fmt.Fprintf(streams.Out, "\nDo you want to %s %s/%s in account %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
		what, p.Header.Project, p.Header.Stage, p.Header.Account)
	line, err := bufio.NewReader(streams.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.TrimSpace(line) != "yes" {
		return errors.New("cancelled: nothing was changed")
	}
	return nil
}
