package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseBuildsAgree: the container image builds the binary with
// .ci/release's flags and with the Go that go.mod asks for, so that the
// binary in the image is the release binary of the same commit.
func TestReleaseBuildsAgree(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	release, dockerfile, gomod := read(".ci/release"), read("Dockerfile"), read("go.mod")

	flags := regexp.MustCompile(`ldflags="([^"]*)"`).FindStringSubmatch(release)
	if flags == nil {
		t.Fatal(`.ci/release sets no ldflags="…"`)
	}
	if want := `-trimpath -ldflags "` + flags[1] + `"`; !strings.Contains(dockerfile, want) {
		t.Errorf("Dockerfile does not build with %s (the flags of .ci/release)", want)
	}
	if !strings.Contains(dockerfile, "CGO_ENABLED=0") || !strings.Contains(release, "CGO_ENABLED=0") {
		t.Error("both builds must be CGO_ENABLED=0: a static binary, independent of the host's C toolchain")
	}

	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	image := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)`).FindStringSubmatch(dockerfile)
	if goLine == nil || image == nil || goLine[1] != image[1] {
		t.Errorf("Dockerfile builds with golang:%v, go.mod asks for go %v", image, goLine)
	}
}
