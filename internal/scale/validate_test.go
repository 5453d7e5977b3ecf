package scale_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/secretboot/secretboot/internal/redact"
	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// BenchmarkValidateMasked is BenchmarkValidate with what the CLI adds to
// every command that evaluates a spec: each payload registered with the
// output masker (spec.EvalOptions.Mask), which is how `secretboot validate`
// runs. N=1,000 always, N=10,000 with SECRETBOOT_BENCH_LARGE=1.
func BenchmarkValidateMasked(b *testing.B) {
	sizes := []int{1000}
	if large() {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("N=%d/R=200", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := scale.Write(dir, n, 200, 1); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				m := redact.New()
				cfg, diags := spec.Load(dir)
				if diags.HasErrors() {
					b.Fatalf("load: %s", diags.Error())
				}
				d, diags := cfg.Evaluate(scale.Stage, spec.EvalOptions{LookupEnv: func(string) (string, bool) { return "", false }, Mask: m.Add})
				if diags.HasErrors() {
					b.Fatalf("evaluate: %s", diags.Error())
				}
				if diags := provision.CheckLimits(d); diags.HasErrors() {
					b.Fatalf("limits: %s", diags.Error())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/validate")
		})
	}
}

// BenchmarkHCLFloor measures what any spec loader built on hcl/v2 pays
// before secretboot does anything: hclsyntax lexing the generated stage's
// files, and lexing plus parsing them, on one goroutine (validate's CPU
// can go no lower; spec.Load parses large files in pieces on every core).
// N=1,000 always, N=10,000 with SECRETBOOT_BENCH_LARGE=1.
func BenchmarkHCLFloor(b *testing.B) {
	sizes := []int{1000}
	if large() {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		files, err := scale.Source(n, 200, 1)
		if err != nil {
			b.Fatal(err)
		}
		for _, step := range []string{"lex", "parse"} {
			b.Run(fmt.Sprintf("N=%d/%s", n, step), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for name, src := range files {
						if !strings.HasSuffix(name, ".hcl") {
							continue
						}
						var diags hcl.Diagnostics
						if step == "lex" {
							_, diags = hclsyntax.LexConfig(src, name, hcl.InitialPos)
						} else {
							_, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
						}
						if diags.HasErrors() {
							b.Fatal(diags.Error())
						}
					}
				}
			})
		}
	}
}
