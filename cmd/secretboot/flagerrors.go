package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagError rewrites pflag's parse errors ("unknown shorthand flag: 'o' in
// -outt": pflag reads a single-dash word as a bundle of one-letter flags)
// in secretboot's flag syntax, naming the command and the nearest flag.
// A flag's value is never repeated: it may be a payload given by mistake.
func flagError(cmd *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		required *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
	)
	switch {
	case errors.As(err, &notExist):
		dashes, typed := "--", notExist.GetSpecifiedName()
		if s := notExist.GetSpecifiedShortnames(); s != "" {
			dashes, typed = "-", s
		}
		msg := fmt.Sprintf("unknown flag %s%s for %q", dashes, typed, cmd.CommandPath())
		if near := nearestFlag(cmd, typed); near != nil {
			return fmt.Errorf("%s; did you mean %s?", msg, flagName(cmd, near))
		}
		return fmt.Errorf("%s (%s -help lists its flags)", msg, cmd.CommandPath())
	case errors.As(err, &required):
		f := required.GetFlag()
		return fmt.Errorf("%s needs a value: %s %s", flagName(cmd, f), flagName(cmd, f), valueName(f))
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return fmt.Errorf("%s wants %s (the value given is not shown: it may hold a payload)", flagName(cmd, f), valueName(f))
	}
	return err
}

// flagName spells a flag the way the docs do: common flags with two
// dashes, a command's own flags with one.
func flagName(cmd *cobra.Command, f *pflag.Flag) string {
	if cmd.LocalNonPersistentFlags().Lookup(f.Name) == f {
		return "-" + f.Name
	}
	return "--" + f.Name
}

// valueName is the placeholder for a flag's value: its usage's `NAME`, or
// what its type asks for.
func valueName(f *pflag.Flag) string {
	if name, _ := pflag.UnquoteUsage(f); name != "" && name != f.Value.Type() {
		return name
	}
	switch f.Value.Type() {
	case "int":
		return "N (a whole number)"
	case "float64":
		return "a number"
	case "duration":
		return "a duration such as 500ms or 2s"
	case "bool":
		return "true or false"
	}
	return "VALUE"
}

// nearestFlag is the flag of cmd whose name is closest to typed, within a
// third of its length (at least 2 edits), or nil.
func nearestFlag(cmd *cobra.Command, typed string) *pflag.Flag {
	var names []string
	flags := map[string]*pflag.Flag{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
			flags[f.Name] = f
		}
	})
	sort.Strings(names)
	return flags[nearest(typed, names)]
}

// nearest returns the candidate closest to typed by edit distance, or one
// that typed is a prefix of, or "" when none is close: a third of typed's
// length may differ, and at least 2 edits once it has 4 characters (a
// swap of two letters costs 2); shorter words get fewer, so -v does not
// suggest --var.
func nearest(typed string, candidates []string) string {
	limit := max(2, len(typed)/3)
	if len(typed) < 4 {
		limit = len(typed) - 2
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		d := levenshtein.Distance(strings.ToLower(typed), c, nil)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		for _, c := range candidates {
			if len(typed) >= 2 && strings.HasPrefix(c, typed) {
				return c
			}
		}
	}
	return best
}

// rejectUnknownCommands makes every command that only groups others (the
// root, sandbox) refuse an unknown subcommand in one line with the nearest
// command, where cobra would print its help or a multi-line suggestion.
func rejectUnknownCommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		rejectUnknownCommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if near := nearest(args[0], names); near != "" {
			return fmt.Errorf("%s; did you mean %s %s?", msg, cmd.CommandPath(), near)
		}
		return fmt.Errorf("%s (%s -help lists the commands)", msg, cmd.CommandPath())
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}
