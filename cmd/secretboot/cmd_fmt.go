package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/internal/atomicfile"
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
exits 1 when a file is not formatted (for CI); -diff prints the changes,
with each value and binary attribute of a secret shown as one placeholder
line (saying whether formatting changed it), never its text.`,
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
			if _, err := opts.IO.Out.Write(diffHidingPayloads(r)); err != nil {
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
		fmt.Fprintf(opts.IO.Err, "%s not formatted; run secretboot fmt\n", views.Plural(unformatted, "file"))
		return errReported
	}
	return nil
}

// writeFilePreservingMode replaces path atomically, keeping its mode, so
// an interrupted fmt never leaves a truncated spec file behind.
func writeFilePreservingMode(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, fi.Mode().Perm())
}

// payloadAttr is where a secret's value or binary attribute sits in a file:
// lines first to last, 1-based.
type payloadAttr struct {
	name        string
	first, last int
}

// payloadAttrs lists the value and binary attributes of the secret blocks
// of an HCL file, in file order: the lines a diff must not show, since a
// literal payload (allow_literal) is written there.
func payloadAttrs(src []byte, path string) ([]payloadAttr, error) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	var out []payloadAttr
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "secret" {
			continue
		}
		for _, name := range []string{"value", "binary"} {
			if a, ok := b.Body.Attributes[name]; ok {
				out = append(out, payloadAttr{name, a.SrcRange.Start.Line, a.SrcRange.End.Line})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first < out[j].first })
	return out, nil
}

// diffHidingPayloads is the unified diff of a formatting change in which
// the lines of every payload attribute are one placeholder line. The
// placeholder differs between the two sides exactly when formatting
// changed those lines, so the diff says that a payload's layout changed
// without showing it. A file whose attributes cannot be paired up (never
// expected: formatting keeps every attribute) gets no diff at all.
func diffHidingPayloads(r spec.FormatResult) []byte {
	oldAttrs, oerr := payloadAttrs(r.Original, r.Path)
	newAttrs, ferr := payloadAttrs(r.Formatted, r.Path)
	if oerr != nil || ferr != nil || len(oldAttrs) != len(newAttrs) {
		return []byte(fmt.Sprintf("(the diff of %s is not shown: its payload lines could not be located)\n", r.Path))
	}
	oldLines, newLines := splitLines(r.Original), splitLines(r.Formatted)
	changed := make([]bool, len(oldAttrs))
	for i := range oldAttrs {
		o, n := oldAttrs[i], newAttrs[i]
		changed[i] = !slices.Equal(oldLines[o.first-1:o.last], newLines[n.first-1:n.last])
	}
	old := hideLines(oldLines, oldAttrs, func(int) bool { return false })
	formatted := hideLines(newLines, newAttrs, func(i int) bool { return changed[i] })
	return diff.Diff(r.Path, old, r.Path+" (formatted)", formatted)
}

// hideLines joins lines, putting one placeholder line in place of each
// attribute's lines.
func hideLines(lines []string, attrs []payloadAttr, changed func(int) bool) []byte {
	var b strings.Builder
	next := 0 // index of the first line not yet written
	for i, a := range attrs {
		if a.first-1 < next {
			continue // shares a line with the previous attribute, already hidden
		}
		for _, l := range lines[next : a.first-1] {
			b.WriteString(l)
		}
		first := lines[a.first-1]
		indent := first[:len(first)-len(strings.TrimLeft(first, " \t"))]
		note := "payload hidden"
		if changed(i) {
			note += "; formatting changed it"
		}
		fmt.Fprintf(&b, "%s%s = (%s)\n", indent, a.name, note)
		next = a.last
	}
	for _, l := range lines[next:] {
		b.WriteString(l)
	}
	return []byte(b.String())
}

// splitLines splits src after each newline, keeping the newlines.
func splitLines(src []byte) []string {
	return strings.SplitAfter(string(src), "\n")
}
