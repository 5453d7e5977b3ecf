package main

import (
	"encoding/json"
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
	IO   IOStreams
	JSON bool
	// BuildInfo is debug.ReadBuildInfo, injectable for tests.
	BuildInfo func() (*debug.BuildInfo, bool)
}

func newVersionCmd(a *app) *cobra.Command {
	opts := versionOptions{BuildInfo: debug.ReadBuildInfo}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the secretboot version, commit and Go version",
		Long: `version prints the secretboot version, the commit it was built from (from the
Go toolchain's VCS stamp, with "modified" for a dirty work tree) and the Go
version. secretboot --version prints the same line.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			opts.IO = a.streams
			return runVersion(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the version as JSON")
	return cmd
}

func runVersion(opts versionOptions) error {
	v := readVersion(version, opts.BuildInfo)
	if !opts.JSON {
		_, err := io.WriteString(opts.IO.Out, v.line()+"\n")
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(append(b, '\n'))
	return err
}

// buildVersion is what version reports; its JSON form is `version -json`.
type buildVersion struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`   // full revision; "" when the build had no VCS stamp
	Modified  bool   `json:"modified"` // built from a work tree with uncommitted changes
	GoVersion string `json:"go_version"`
}

// readVersion takes the version from -ldflags, else the module version,
// else "(devel)", and the commit and Go version from the build info.
func readVersion(ldflagsVersion string, readBuildInfo func() (*debug.BuildInfo, bool)) buildVersion {
	v := buildVersion{Version: ldflagsVersion, GoVersion: runtime.Version()}
	if info, ok := readBuildInfo(); ok {
		v.GoVersion = info.GoVersion
		if v.Version == "" {
			v.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

// line renders "secretboot VERSION (GOVERSION[, commit REV[, modified]])".
func (v buildVersion) line() string {
	extra := v.GoVersion
	if rev := v.Commit; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		extra += ", commit " + rev
		if v.Modified {
			extra += ", modified"
		}
	}
	return fmt.Sprintf("secretboot %s (%s)", v.Version, extra)
}
