package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

type validateOptions struct {
	IO        IOStreams
	SpecDir   string
	Stage     string // requested stage ("" = the spec's only stage)
	AllStages bool
	JSON      bool
	Vars      map[string]string
	LookupEnv func(string) (string, bool)
	// Mask registers every sensitive value evaluation produces with the
	// output masker (nil: no masking).
	Mask func(secret []byte)
}

func newValidateCmd(a *app) *cobra.Command {
	var allStages, asJSON bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the spec for one stage (or all) without touching AWS",
		Long: `validate loads every *.hcl file of the spec directory, evaluates the chosen
stage (or every stage with -all-stages) and reports every problem with its
file:line:col and a source snippet. Payload sources are resolved (env(),
file()), so a missing environment variable is an error here, before any
AWS call. Nothing is printed of a payload.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			vars, err := a.varFlags()
			if err != nil {
				return err
			}
			stage := a.requestedStage()
			if allStages && a.common.stage != "" {
				return errors.New("--stage and -all-stages exclude each other")
			}
			if allStages {
				stage = ""
			}
			return runValidate(validateOptions{
				IO: a.streams, SpecDir: a.common.specDir, Stage: stage, AllStages: allStages,
				JSON: asJSON, Vars: vars, LookupEnv: a.lookupEnv, Mask: a.secretSink(),
			})
		},
	}
	cmd.Flags().BoolVar(&allStages, "all-stages", false, "validate every stage")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print diagnostics and the summary as JSON")
	return cmd
}

// stageSummary is what validate reports for a valid stage: counts only,
// nothing of a payload.
type stageSummary struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	Region  string `json:"region"`
	Secrets int    `json:"secrets"`
	Roles   int    `json:"roles"`
}

// validateReport is the -json output of validate (docs/cli.md).
type validateReport struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
	Stages        []stageSummary   `json:"stages"`
}

// stageDiags are the diagnostics of one step: loading ("" stage) or
// evaluating a stage.
type stageDiags struct {
	stage string
	diags hcl.Diagnostics
}

func runValidate(opts validateOptions) error {
	var (
		steps     []stageDiags
		summaries []stageSummary
	)
	cfg, diags := spec.Load(opts.SpecDir)
	steps = append(steps, stageDiags{diags: diags})
	if !diags.HasErrors() {
		stages, err := selectStages(cfg, opts.Stage, opts.AllStages)
		if err != nil {
			steps = append(steps, stageDiags{diags: hcl.Diagnostics{{
				Severity: hcl.DiagError, Summary: "No stage selected", Detail: err.Error(),
			}}})
		}
		var payloadFiles []string
		evaluated := false
		for _, st := range stages {
			d, ds := cfg.Evaluate(st, spec.EvalOptions{Vars: opts.Vars, LookupEnv: opts.LookupEnv, Mask: opts.Mask})
			if d != nil {
				evaluated = true
				payloadFiles = append(payloadFiles, d.PayloadFiles...)
				ds = append(ds, provision.CheckLimits(d)...)
			}
			steps = append(steps, stageDiags{stage: st, diags: ds})
			if !ds.HasErrors() && d != nil {
				summaries = append(summaries, stageSummary{
					Name: d.Stage, Project: d.Project, Region: d.Region,
					Secrets: len(d.Secrets), Roles: len(d.Roles),
				})
			}
		}
		if evaluated {
			// A payload file committed to git has leaked already; say so
			// while it is still a warning and not an incident. Files are
			// the spec's, not a stage's: each is named once however many
			// stages read it.
			slices.Sort(payloadFiles)
			steps = append(steps, stageDiags{diags: trackedPayloadDiagnostics(cfg.Dir, slices.Compact(payloadFiles))})
		}
	}

	report := validateReport{FormatVersion: "1", Diagnostics: []jsonDiagnostic{}, Stages: summaries}
	for _, s := range steps {
		for _, d := range s.diags {
			if d.Severity == hcl.DiagWarning {
				report.WarningCount++
			} else {
				report.ErrorCount++
			}
		}
		report.Diagnostics = append(report.Diagnostics, toJSONDiagnostics(s.stage, s.diags)...)
	}
	report.Valid = report.ErrorCount == 0
	if report.Stages == nil {
		report.Stages = []stageSummary{}
	}

	if opts.JSON {
		if err := writeJSON(opts.IO.Out, report); err != nil {
			return err
		}
	} else if err := writeValidateText(opts, cfg, steps, report); err != nil {
		return err
	}
	if !report.Valid {
		return errReported
	}
	return nil
}

func writeValidateText(opts validateOptions, cfg *spec.Config, steps []stageDiags, report validateReport) error {
	multi := len(steps) > 2 // loading plus more than one stage
	for _, s := range steps {
		if len(s.diags) == 0 {
			continue
		}
		if multi && s.stage != "" {
			fmt.Fprintf(opts.IO.Err, "In stage %s:\n", s.stage)
		}
		if err := writeDiagnosticsText(opts.IO.Err, cfg.Files(), s.diags, opts.IO.ColorEnabled); err != nil {
			return err
		}
	}
	for _, s := range report.Stages {
		fmt.Fprintf(opts.IO.Out, "stage %s: %s, %s (project %s, %s)\n",
			s.Name, views.Plural(s.Secrets, "secret"), views.Plural(s.Roles, "role"), s.Project, s.Region)
	}
	if report.Valid {
		fmt.Fprintf(opts.IO.Out, "%s The spec is valid.\n", opts.IO.Colors().Good("Success!"))
	} else {
		fmt.Fprintf(opts.IO.Err, "%s %s, %s.\n", opts.IO.Colors().Bad("Invalid:"),
			views.Plural(report.ErrorCount, "error"), views.Plural(report.WarningCount, "warning"))
	}
	return nil
}

// selectStages picks the stages to evaluate: every stage, or the one the
// spec resolves from the request (--stage, $SECRETBOOT_STAGE, or its only
// stage).
func selectStages(cfg *spec.Config, requested string, all bool) ([]string, error) {
	if all {
		return cfg.Stages(), nil
	}
	st, err := cfg.ResolveStage(requested)
	if err != nil {
		return nil, err
	}
	return []string{st}, nil
}
