package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages for every command into DIR",
		Long: `man writes a man page (section 1) for secretboot and for each of its commands
into DIR, generated from the same command tree as --help: secretboot.1,
secretboot-plan.1, secretboot-sandbox-serve.1, … Install them with, for
example, "secretboot man /usr/local/share/man/man1". The pages are dated with
the month of the commit the binary was built from, else $SOURCE_DATE_EPOCH,
else the current month.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			header := &doc.GenManHeader{Title: "SECRETBOOT", Section: "1", Source: "secretboot " + readVersion(version, debug.ReadBuildInfo).Version, Date: commitTime(debug.ReadBuildInfo)}
			if err := doc.GenManTree(cmd.Root(), header, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.streams.Out, "Wrote the man pages to %s\n", args[0])
			return nil
		},
	}
}

// commitTime is the VCS stamp's commit time, so that pages built from one
// commit are byte-identical; nil without a stamp.
func commitTime(readBuildInfo func() (*debug.BuildInfo, bool)) *time.Time {
	info, ok := readBuildInfo()
	if !ok {
		return nil
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.time" {
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				return &t
			}
		}
	}
	return nil
}
