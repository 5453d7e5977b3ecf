package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

type importOptions struct {
	IO    IOStreams
	Names []string // spec labels or full secret names
	// Plan and Apply are the command lines that review and write the
	// imported secrets' values, with the flags that picked the stage.
	Plan, Apply string
}

func newImportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "import NAME...",
		Short: "Adopt existing secrets that the spec declares",
		Long: `import adopts secrets that already exist under names the spec declares but
that secretboot does not own, by tagging them as the stage's. Nothing else
changes: the next apply writes each adopted secret's value once. NAME is a
spec label (app/db) or a full secret name (dev/app/db). Roles cannot be
imported: secretboot owns roles by their IAM path, which cannot change.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := importOptions{IO: a.streams, Names: args, Plan: commandLine(cmd, "plan"), Apply: commandLine(cmd, "apply")}
			return a.withStage(cmd.Context(), a.requestedStage(), needsPayloads, func(d *spec.Desired, s *provision.Session) error {
				return runImport(cmd.Context(), opts, d, s)
			})
		},
	}
}

func runImport(ctx context.Context, opts importOptions, d *spec.Desired, s *provision.Session) error {
	done, err := provision.Import(ctx, s, d, opts.Names)
	for _, name := range done {
		fmt.Fprintf(opts.IO.Out, "Imported secret %s into %s/%s.\n", name, d.Project, d.Stage)
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(opts.IO.Out, "Nothing to import: secretboot already owns these secrets.")
		return nil
	}
	// An imported secret's current version is not one secretboot wrote, so
	// the next apply rewrites its value from the spec, once.
	fmt.Fprintf(opts.IO.Out, "Their values are not yet the spec's: review with\n  %s\nthen write them with\n  %s\n", opts.Plan, opts.Apply)
	return nil
}
