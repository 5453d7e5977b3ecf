package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/templates"
)

// scaffoldRoot is the folder of templates.FS that init copies.
const scaffoldRoot = "init"

// dotPrefix marks scaffold files that are written as dot files: go:embed
// skips names starting with "." when embedding a directory, so
// templates/init/dot-gitignore becomes .gitignore.
const dotPrefix = "dot-"

type initOptions struct {
	IO       IOStreams
	Dir      string
	Scaffold fs.FS // the init/ tree of templates.FS
	// Mask rewrites each file before it is written (the output masker), as
	// for every file secretboot writes.
	Mask func([]byte) []byte
}

func newInitCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a small working spec into DIR (default --spec)",
		Long: `init writes a small working spec (one stage, one role, one secret) and a
.gitignore for secretboot's local state into DIR. It refuses to overwrite
any existing file.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts := initOptions{IO: a.streams, Dir: a.common.specDir, Mask: a.maskFile}
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			sub, err := fs.Sub(templates.FS, scaffoldRoot)
			if err != nil {
				return err
			}
			opts.Scaffold = sub
			return runInit(opts)
		},
	}
}

// scaffoldFile is one file to write: its path inside the scaffold and its
// destination.
type scaffoldFile struct{ src, dst string }

func runInit(opts initOptions) error {
	files, err := scaffoldFiles(opts.Scaffold, opts.Dir)
	if err != nil {
		return err
	}
	// Check every destination before writing anything, so a refusal leaves
	// the directory as it was.
	var existing []string
	for _, f := range files {
		if _, err := os.Lstat(f.dst); err == nil {
			existing = append(existing, f.dst)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(existing) > 0 {
		return fmt.Errorf("init refuses to overwrite existing files: %s", strings.Join(existing, ", "))
	}
	for _, f := range files {
		data, err := fs.ReadFile(opts.Scaffold, f.src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(f.dst), 0o755); err != nil {
			return err
		}
		// O_EXCL closes the window between the check above and the write.
		w, err := os.OpenFile(f.dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, werr := w.Write(opts.Mask(data))
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return werr
		}
		fmt.Fprintf(opts.IO.Out, "Created %s\n", f.dst)
	}
	spec := ""
	if filepath.Clean(opts.Dir) != "." {
		spec = " --spec " + shellQuote(opts.Dir)
	}
	fmt.Fprintf(opts.IO.Out, `
Next, on the embedded sandbox (no AWS account needed):
  export EXAMPLE_API_KEY=%s    # the spec's one payload source
  secretboot validate%s
  secretboot plan%s --sandbox -out plan.json
  secretboot apply%s --sandbox plan.json
Against AWS, drop --sandbox (and pin the account with the stage's account_id).
`, exampleAPIKey, spec, spec, spec)
	return nil
}

// exampleAPIKey is the value init's hint exports for the scaffold's
// payload source: any value works on the sandbox, and one of at least
// spec.MinMaskedLength bytes draws no warning.
const exampleAPIKey = "sk-test-0123456789"

// scaffoldFiles lists the scaffold's files, sorted, with their destinations
// under dir.
func scaffoldFiles(scaffold fs.FS, dir string) ([]scaffoldFile, error) {
	var files []scaffoldFile
	err := fs.WalkDir(scaffold, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if rest, ok := strings.CutPrefix(name, dotPrefix); ok {
			name = "." + rest
		}
		dst := filepath.Join(dir, filepath.FromSlash(path.Dir(p)), name)
		files = append(files, scaffoldFile{src: p, dst: dst})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].dst < files[j].dst })
	return files, err
}
