package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at release time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/secretboot
//
// Without it the module version from the build info is used, which `go
// install …@v1.2.3` fills in.
var version = ""

type versionOptions struct {
	IO IOStreams
	// BuildInfo is debug.ReadBuildInfo, injectable for tests.
	BuildInfo func() (*debug.BuildInfo, bool)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the secretboot version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runVersion(versionOptions{IO: a.streams, BuildInfo: debug.ReadBuildInfo})
		},
	}
}

func runVersion(opts versionOptions) error {
	_, err := io.WriteString(opts.IO.Out, versionLine(version, opts.BuildInfo))
	return err
}

// versionLine renders "secretboot VERSION (GOVERSION[, commit REV[, modified]])".
func versionLine(ldflagsVersion string, readBuildInfo func() (*debug.BuildInfo, bool)) string {
	v, goVersion, rev, modified := ldflagsVersion, runtime.Version(), "", false
	if info, ok := readBuildInfo(); ok {
		goVersion = info.GoVersion
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	extra := goVersion
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		extra += ", commit " + rev
		if modified {
			extra += ", modified"
		}
	}
	return fmt.Sprintf("secretboot %s (%s)\n", v, extra)
}
