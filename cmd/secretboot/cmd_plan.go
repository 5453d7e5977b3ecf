package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

type planOptions struct {
	IO               IOStreams
	Out              string // save the plan here for `apply PLANFILE`
	JSON             bool
	Markdown         bool
	MarkdownLimit    int
	DetailedExitCode bool
	FailOnBroadening bool
	Destroy          bool
	NoPayloads       bool
	Regenerate       []string
	// Mask rewrites the saved plan before it is written (the output masker).
	Mask provision.Mask
	// ApplyCommand is the command line that applies a plan saved to Out,
	// with the flags that picked the stage.
	ApplyCommand string
}

func newPlanCmd(a *app) *cobra.Command {
	var opts planOptions
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change in the stage",
		Long: `plan evaluates the spec for the stage, reads the live state of the account
(cheaply: no payload is read) and shows what apply would change. Payloads
appear only as (sensitive) with their field names.

With -detailed-exitcode, plan exits 2 when there are changes. With
-fail-on-broadening, plan exits 3 when a role would gain access it does not
have (checked before -detailed-exitcode).

With -no-payloads, plan needs no payload source (env(), file()) and reads no
secret value, not even the stage key: it shows every structural change
(secrets added, removed, restored, readers, roles, trust, grants with their
BROADENS marks) and marks payloads as not compared, for a pull request's
review. Its exit codes follow -detailed-exitcode and -fail-on-broadening; it
can be saved, but a saved payload-less plan cannot be applied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.JSON && opts.Markdown {
				return errors.New("-json and -markdown exclude each other")
			}
			if opts.MarkdownLimit < 1 {
				return errors.New("-markdown-limit must be positive")
			}
			opts.IO, opts.Mask = a.streams, a.maskFile
			opts.ApplyCommand = commandLine(cmd, "apply", opts.Out)
			if opts.NoPayloads && (opts.Destroy || len(opts.Regenerate) > 0) {
				return errors.New("-no-payloads compares no payload: it cannot be combined with -destroy (which never reads one) or -regenerate")
			}
			use := needsPayloads
			if opts.Destroy || opts.NoPayloads {
				use = noPayloads
			}
			return a.withStage(cmd.Context(), a.requestedStage(), use, func(d *spec.Desired, s *provision.Session) error {
				return runPlan(cmd.Context(), opts, d, s)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "save the plan to `FILE` for apply (it holds no payload)")
	f.BoolVar(&opts.JSON, "json", false, "print the plan as JSON (docs/plan-json.md)")
	f.BoolVar(&opts.Markdown, "markdown", false, "print the plan as Markdown, for pull-request comments")
	f.IntVar(&opts.MarkdownLimit, "markdown-limit", views.CommentLimit, "with -markdown, cut the plan to `N` characters; grants that broaden access are never cut")
	f.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 2 when there are changes")
	f.BoolVar(&opts.FailOnBroadening, "fail-on-broadening", false, "exit 3 when a grant widens access")
	f.BoolVar(&opts.Destroy, "destroy", false, "plan the removal of everything the stage owns")
	f.BoolVar(&opts.NoPayloads, "no-payloads", false, "plan without the payload sources: structure only, for review; cannot be applied")
	addRegenerateFlag(cmd, &opts.Regenerate)
	addNoAssumeRoleFlag(cmd, a)
	return cmd
}

func addRegenerateFlag(cmd *cobra.Command, dst *[]string) {
	cmd.Flags().StringArrayVar(dst, "regenerate", nil, "replace generated values of secret `NAME[.FIELD]` (repeatable)")
}

func runPlan(ctx context.Context, opts planOptions, d *spec.Desired, s *provision.Session) error {
	p, err := computePlan(ctx, d, s, provision.DiffOptions{Destroy: opts.Destroy, NoPayloads: opts.NoPayloads, Regenerate: opts.Regenerate})
	if err != nil {
		return err
	}
	switch {
	case opts.JSON:
		err = views.JSON(opts.IO.Out, p)
	case opts.Markdown:
		err = views.MarkdownWithin(opts.IO.Out, p, opts.MarkdownLimit)
	default:
		err = views.Text(opts.IO.Out, p, opts.IO.Colors())
	}
	if err != nil {
		return err
	}
	if opts.Out != "" {
		if err := provision.WritePlanFile(opts.Out, p, opts.Mask); err != nil {
			return err
		}
		switch {
		case opts.JSON || opts.Markdown:
		case p.PayloadsNotCompared:
			fmt.Fprintf(opts.IO.Out, "\nSaved the plan to %s, for review: a plan without payloads cannot be applied.\n", opts.Out)
		default:
			fmt.Fprintf(opts.IO.Out, "\nSaved the plan to %s; apply it with:\n  %s\n", opts.Out, opts.ApplyCommand)
		}
	}
	switch {
	case opts.FailOnBroadening && p.Summary.Broadening > 0:
		fmt.Fprintf(opts.IO.Err, "%s the plan broadens access (%s); blocked by -fail-on-broadening\n",
			opts.IO.Colors().Bad("Error:"), views.Plural(p.Summary.Broadening, "grant"))
		return errBroadeningBlocked
	case opts.DetailedExitCode && !p.Empty():
		return errChangesPresent
	}
	return nil
}

// computePlan observes the stage and diffs it against the spec.
func computePlan(ctx context.Context, d *spec.Desired, s *provision.Session, do provision.DiffOptions) (*provision.Plan, error) {
	observe := provision.Observe
	if do.NoPayloads {
		observe = provision.ObserveStructure
	}
	o, err := observe(ctx, s, d)
	if err != nil {
		return nil, err
	}
	return provision.Diff(d, o, do)
}

// withStage loads and evaluates the stage, connects to its account (or the
// embedded sandbox), runs fn and then closes the connection, saving the
// sandbox's state.
func (a *app) withStage(ctx context.Context, requested string, use payloadUse, fn func(*spec.Desired, *provision.Session) error) (err error) {
	d, err := a.loadStage(requested, use)
	if err != nil {
		return err
	}
	ss, err := a.connect(ctx, d)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, ss.close()) }()
	return fn(d, ss.Session)
}
