package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/spec"
)

type fmtOptions struct {
	IO      IOStreams
	SpecDir string
	Check   bool // report unformatted files, change nothing, exit 1 if any
	Diff    bool // print a unified diff of the changes
}

func newFmtCmd(a *app) *cobra.Command {
	var check, showDiff bool
	cmd := &cobra.Command{
		Use:   "fmt",
		Short: "Rewrite the spec's *.hcl files in canonical format",
		Long: `fmt rewrites every *.hcl file of the spec directory in HCL's canonical
format and lists the files it changed. With -check it changes nothing and
exits 1 when a file is not formatted (for CI); -diff prints the changes.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runFmt(fmtOptions{IO: a.streams, SpecDir: a.common.specDir, Check: check, Diff: showDiff})
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only check; exit 1 when a file is not formatted")
	cmd.Flags().BoolVar(&showDiff, "diff", false, "print a unified diff of the formatting changes")
	return cmd
}

func runFmt(opts fmtOptions) error {
	results, err := spec.FormatDir(opts.SpecDir)
	if err != nil {
		return err
	}
	unformatted := 0
	for _, r := range results {
		if !r.Changed() {
			continue
		}
		unformatted++
		fmt.Fprintln(opts.IO.Out, r.Path)
		if opts.Diff {
			if _, err := opts.IO.Out.Write(diff.Diff(r.Path, r.Original, r.Path+" (formatted)", r.Formatted)); err != nil {
				return err
			}
		}
		if opts.Check {
			continue
		}
		if err := writeFilePreservingMode(r.Path, r.Formatted); err != nil {
			return fmt.Errorf("formatting %s: %w", r.Path, err)
		}
	}
	if opts.Check && unformatted > 0 {
		fmt.Fprintf(opts.IO.Err, "%s not formatted; run secretboot fmt\n", plural(unformatted, "file"))
		return errReported
	}
	return nil
}

// writeFilePreservingMode replaces path atomically (temp file + rename) so
// an interrupted fmt never leaves a truncated spec file behind.
func writeFilePreservingMode(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
