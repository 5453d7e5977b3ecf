package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/secretboot/secretboot/internal/redact"
	"github.com/secretboot/secretboot/spec"
)

// app is what every command shares: the streams, the environment and the
// common flags. Command-specific flags live in each command's options.
type app struct {
	streams   IOStreams // masked: every byte written goes through masker
	lookupEnv func(string) (string, bool)
	common    commonOptions

	masker   *redact.Masker
	masked   []*redact.Writer // the masked standard streams, flushed at exit
	rawErr   io.Writer        // stderr before masking, for the exit notice
	unmasked bool             // a leaktest build's switch turned masking off
}

// commonOptions are the flags every command accepts.
type commonOptions struct {
	specDir     string
	stage       string
	vars        []string
	profile     string
	sandbox     sandboxFlag
	parallelism int
	noColor     bool
	debug       bool
	// noAssumeRole keeps the loaded credentials instead of assuming the
	// stage's assume_role_arn (addNoAssumeRoleFlag).
	noAssumeRole bool
	// iamWriteRate is apply's and destroy's IAM writes a second
	// (addIAMWriteRateFlag); 0 leaves it to SECRETBOOT_IAM_WRITE_RATE or
	// the default.
	iamWriteRate float64
}

// stageEnv names the environment variable that picks a stage when --stage is
// not given.
const stageEnv = "SECRETBOOT_STAGE"

// requestedStage is --stage, else $SECRETBOOT_STAGE, else "" (let the spec
// decide: its only stage, or an error listing the stages).
func (a *app) requestedStage() string {
	if a.common.stage != "" {
		return a.common.stage
	}
	s, _ := a.lookupEnv(stageEnv)
	return s
}

// varFlags parses the repeated --var k=v flags. A later flag wins over an
// earlier one for the same name, as in Terraform. A malformed flag is named
// by its position only: its text may be a payload given by mistake (--var
// "$DB_PASSWORD"), and a name that is no identifier may be part of one.
func (a *app) varFlags() (map[string]string, error) {
	vars := make(map[string]string, len(a.common.vars))
	for i, kv := range a.common.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !hclsyntax.ValidIdentifier(k) {
			return nil, fmt.Errorf("--var #%d of %d is not NAME=VALUE with NAME an identifier (the argument is not shown: it may hold a payload)", i+1, len(a.common.vars))
		}
		vars[k] = v
	}
	return vars, nil
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "secretboot",
		Short: "Secrets Manager secrets and least-privilege IAM read policies from an HCL spec",
		Long: `secretboot turns a checked-in HCL spec into AWS Secrets Manager secrets plus
least-privilege IAM read policies, one stage at a time. Payloads never leave
the Secrets Manager request: not in plans, logs, errors or outputs.

Long flags take one dash or two: -json and --json are the same flag.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Generated man pages carry no "auto generated on DATE" line: the
		// same binary writes the same pages.
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.common.noColor {
				a.streams.ColorEnabled = false
			}
			if a.common.parallelism < 1 {
				return fmt.Errorf("--parallelism must be at least 1, got %d", a.common.parallelism)
			}
			return nil
		},
	}
	// --version prints what `version` does. The flag is declared here so
	// that cobra adds no -v shorthand: -h is the only one-letter flag.
	root.Version = readVersion(version, debug.ReadBuildInfo).line()
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().Bool("version", false, "print the version, commit and Go version")
	root.SetIn(a.streams.In)
	root.SetOut(a.streams.Out)
	root.SetErr(a.streams.Err)
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringVar(&a.common.specDir, "spec", ".", "`DIR` holding the spec (every *.hcl file in it)")
	pf.StringVar(&a.common.stage, "stage", "", "`STAGE` to work on (default $"+stageEnv+", else the spec's only stage)")
	pf.StringArrayVar(&a.common.vars, "var", nil, "set a spec variable, `NAME=VALUE` (repeatable)")
	pf.StringVar(&a.common.profile, "profile", "", "AWS shared config `PROFILE`")
	pf.Var(&a.common.sandbox, "sandbox", "run against the embedded sandbox; =DIR sets where it keeps its state")
	pf.Lookup("sandbox").NoOptDefVal = sandboxDefaultMarker
	// Shell completion offers the spec's stages; parsing reads no payload.
	_ = root.RegisterFlagCompletionFunc("stage", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, _ := spec.Load(a.common.specDir)
		return cfg.Stages(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("spec", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
	pf.IntVar(&a.common.parallelism, "parallelism", 10, "concurrent changes per service (Secrets Manager, IAM) during apply")
	pf.BoolVar(&a.common.noColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.BoolVar(&a.common.debug, "debug", false, "log AWS SDK requests and responses, bodies redacted")

	root.AddCommand(
		newInitCmd(a),
		newFmtCmd(a),
		newValidateCmd(a),
		newPlanCmd(a),
		newApplyCmd(a),
		newDestroyCmd(a),
		newOutputCmd(a),
		newStagesCmd(a),
		newImportCmd(a),
		newPolicyCmd(a),
		newVerifyCmd(a),
		newAuditCmd(a),
		newSandboxCmd(a),
		newVersionCmd(a),
		newCompletionCmd(a),
		newManCmd(a),
	)
	root.SetFlagErrorFunc(flagError)
	rejectUnknownCommands(root)
	return root
}

// sandboxDefaultMarker is what a bare --sandbox sets; it also shows up in
// --help as the default, so it reads as a path.
const sandboxDefaultMarker = "<spec>/.secretboot/sandbox"

// sandboxFlag is --sandbox[=DIR]: off, on with the default state directory
// beside the spec, or on with an explicit directory.
type sandboxFlag struct {
	enabled bool
	dir     string // "" = default
}

func (f *sandboxFlag) String() string {
	if !f.enabled {
		return ""
	}
	if f.dir == "" {
		return sandboxDefaultMarker
	}
	return f.dir
}

func (f *sandboxFlag) Set(s string) error {
	f.enabled = true
	if s != sandboxDefaultMarker {
		f.dir = s
	}
	return nil
}

// Type is empty so that --help shows "--sandbox[=<spec>/.secretboot/sandbox]"
// rather than suggesting a required value.
func (f *sandboxFlag) Type() string { return "" }

// stateDir is the sandbox state directory for a spec directory.
func (f *sandboxFlag) stateDir(specDir string) string {
	if f.dir != "" {
		return f.dir
	}
	return filepath.Join(specDir, ".secretboot", "sandbox")
}

// normalizeArgs rewrites single-dash long flags (-json, -out=plan.bin) to the
// double-dash form cobra parses. It walks the command path the way cobra will,
// and only rewrites a word that names a long flag of the command reached so
// far; the value following a flag that takes one is left alone, as is
// everything after "--". Commands define no one-letter shorthands besides
// -h, so a single-dash word is never a bundle of shorthands.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	cmd := root
	cmd.InitDefaultHelpFlag() // cobra adds --help lazily; -help must find it
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			if sub := findSub(cmd, arg); sub != nil {
				cmd = sub
				cmd.InitDefaultHelpFlag()
			}
			out = append(out, arg)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		f := lookupFlag(cmd, name)
		if f == nil {
			out = append(out, arg)
			continue
		}
		if !strings.HasPrefix(arg, "--") && len(name) > 1 {
			arg = "-" + arg
		}
		out = append(out, arg)
		// A flag that needs a value and has no "=value" consumes the next word.
		if !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

func findSub(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// lookupFlag finds a long flag of cmd, its own or inherited from a parent.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for c := cmd; c != nil; c = c.Parent() {
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
		if f := c.PersistentFlags().Lookup(name); f != nil {
			return f
		}
	}
	return nil
}
