package scale_test

import (
	"fmt"
	"testing"

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
