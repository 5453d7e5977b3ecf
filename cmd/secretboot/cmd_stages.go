package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/spec"
)

type stagesOptions struct {
	IO   IOStreams
	JSON bool
}

func newStagesCmd(a *app) *cobra.Command {
	var opts stagesOptions
	cmd := &cobra.Command{
		Use:   "stages",
		Short: "List the spec's stages, with their region and account",
		Long: `stages evaluates every stage of the spec (without payloads, so no payload
source need be set; --var applies) and lists its name, region, account_id and
secret name prefix. -json prints an array of objects for a CI matrix, such as
GitHub Actions' matrix.include:

  matrix:
    include: ${{ fromJSON(needs.stages.outputs.stages) }}

with "stage", "region", "account_id" (empty when the stage pins none) and
"name_prefix" in each entry. It makes no AWS call.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			opts.IO = a.streams
			return runStages(a, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the stages as a JSON array")
	return cmd
}

// stageEntry is one stage in `stages -json`.
type stageEntry struct {
	Stage      string `json:"stage"`
	Region     string `json:"region"`
	AccountID  string `json:"account_id"`
	NamePrefix string `json:"name_prefix"`
}

func runStages(a *app, opts stagesOptions) error {
	vars, err := a.varFlags()
	if err != nil {
		return err
	}
	cfg, diags := spec.Load(a.common.specDir)
	if err := a.showDiags(cfg, diags); err != nil {
		return err
	}
	// Every stage is evaluated before anything is printed, so a stage that
	// does not evaluate fails the command instead of leaving a short list.
	entries := []stageEntry{}
	for _, name := range cfg.Stages() {
		d, diags := cfg.Evaluate(name, spec.EvalOptions{Vars: vars, LookupEnv: a.lookupEnv, SkipPayloads: true, Mask: a.secretSink()})
		if err := a.showDiags(cfg, diags); err != nil {
			return err
		}
		entries = append(entries, stageEntry{Stage: d.Stage, Region: d.Region, AccountID: d.AccountID, NamePrefix: d.NamePrefix})
	}
	if opts.JSON {
		b, err := json.MarshalIndent(entries, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(opts.IO.Out, "%s\n", b)
		return err
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tREGION\tACCOUNT\tNAME PREFIX")
	for _, e := range entries {
		account := e.AccountID
		if account == "" {
			account = "(any)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Stage, e.Region, account, e.NamePrefix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprint(opts.IO.Out, b.String())
	return err
}
