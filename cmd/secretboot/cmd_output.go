package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

type outputOptions struct {
	IO     IOStreams
	Format string // json | tfvars
}

func newOutputCmd(a *app) *cobra.Command {
	var opts outputOptions
	cmd := &cobra.Command{
		Use:   "output",
		Short: "Print the stage's secret ARNs, role ARNs and instance profiles",
		Long: `output reads the stage's resources and prints their identifiers, keyed by
spec label, for other tools: -format json, or -format tfvars for Terraform
(for example aws_instance.iam_instance_profile). Resources that do not exist
yet are left out. No payload is read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Format != "json" && opts.Format != "tfvars" {
				return fmt.Errorf("-format %q: want json or tfvars", opts.Format)
			}
			opts.IO = a.streams
			return a.withStage(cmd.Context(), a.requestedStage(), noPayloads, func(d *spec.Desired, s *provision.Session) error {
				return runOutput(cmd.Context(), opts, d, s)
			})
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "json", "output `FORMAT`: json or tfvars")
	return cmd
}

func runOutput(ctx context.Context, opts outputOptions, d *spec.Desired, s *provision.Session) error {
	o, err := provision.Observe(ctx, s, d)
	if err != nil {
		return err
	}
	out := provision.OutputsOf(d, o)
	if opts.Format == "tfvars" {
		return views.OutputsTFVars(opts.IO.Out, out)
	}
	return views.OutputsJSON(opts.IO.Out, out)
}
