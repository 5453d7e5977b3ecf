package scale_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/scale"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// benchSizes are the (N secrets, R roles) pairs to measure: a smoke size
// always, the grid of issue 7 with SECRETBOOT_BENCH_LARGE=1.
func benchSizes() [][2]int {
	if !large() {
		return [][2]int{{100, 10}}
	}
	var out [][2]int
	for _, n := range []int{100, 1000, 10000} {
		for _, r := range []int{10, 50, 200} {
			out = append(out, [2]int{n, r})
		}
	}
	return out
}

// BenchmarkPlan measures connect + observe + diff against a sandbox that
// already holds the stage, with AWS-like latency and quotas on. The stage is
// populated first with latency and quotas off, outside the timer.
func BenchmarkPlan(b *testing.B) {
	for _, size := range benchSizes() {
		n, r := size[0], size[1]
		b.Run(fmt.Sprintf("N=%d/R=%d", n, r), func(b *testing.B) {
			d, env := populatedStage(b, n, r)
			env.Server.SetFaults(awsLike)
			var (
				c          calls
				wall       time.Duration
				peak, base float64
			)
			for b.Loop() {
				env.Server.ResetStats()
				h := startHeapSampler()
				start := time.Now()
				p := planOf(b, connect(b, env), d)
				wall = time.Since(start)
				peak, base = h.finish()
				if !p.Empty() {
					b.Fatalf("plan of a populated stage has %d changes", len(p.Changes))
				}
				c = callsOf(env.Server.Stats())
			}
			for _, op := range c.ops() {
				b.ReportMetric(float64(c.byOp[op]), op+"-calls")
			}
			b.ReportMetric(float64(c.total), "plan-calls")
			b.ReportMetric(float64(planBudget(n, r, d.AccountIAMRead)), "budget-calls")
			b.ReportMetric(float64(terraformModel(n, r)), "tf-model-calls")
			b.ReportMetric(float64(c.total)/float64(terraformModel(n, r)), "ratio-to-tf")
			b.ReportMetric(wall.Seconds(), "plan-s")
			b.ReportMetric(peak, "peak-heap-MB")
			b.ReportMetric(peak-base, "plan-heap-MB")
			b.ReportMetric(float64(c.throttled), "throttles")
		})
	}
}

// BenchmarkDiff measures the engine's work between the calls of a clean
// plan: Diff (Resolve, the comparison and the observation's fingerprint)
// of an observation of the populated stage, made once outside the timer.
// It reports the CPU and memory that plan spends on its own, without the
// SDK's and the sandbox's: a fresh observation each time, since Diff
// caches what it parses on it.
func BenchmarkDiff(b *testing.B) {
	for _, size := range benchSizes() {
		n, r := size[0], size[1]
		b.Run(fmt.Sprintf("N=%d/R=%d", n, r), func(b *testing.B) {
			d, env := populatedStage(b, n, r)
			s := connect(b, env)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				o, err := provision.Observe(ctx, s, d)
				if err != nil {
					b.Fatalf("observe: %v", err)
				}
				b.StartTimer()
				p, err := provision.Diff(d, o, provision.DiffOptions{})
				if err != nil {
					b.Fatalf("diff: %v", err)
				}
				if !p.Empty() {
					b.Fatalf("plan of a populated stage has %d changes", len(p.Changes))
				}
			}
		})
	}
}

// BenchmarkApply measures an apply of N new secrets (and R new roles with
// their policies and instance profiles) from an empty account, through
// connect, observe, diff and apply as the CLI runs them, with AWS-like
// latency and quotas on. It then applies again and reports the writes of
// that no-change apply, which must be zero.
func BenchmarkApply(b *testing.B) {
	for _, size := range benchSizes() {
		n, r := size[0], size[1]
		b.Run(fmt.Sprintf("N=%d/R=%d", n, r), func(b *testing.B) {
			d, err := scale.Desired(n, r, 1)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var (
				c, noop    calls
				wall       time.Duration
				peak, base float64
			)
			for b.Loop() {
				b.StopTimer()
				env := sandboxtest.Start(b, sandbox.Options{Account: scale.Account})
				env.Server.SetFaults(awsLike)
				b.StartTimer()

				h := startHeapSampler()
				start := time.Now()
				s := connect(b, env)
				p := planOf(b, s, d)
				if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{}); err != nil {
					b.Fatalf("apply surfaced an error: %v", err)
				}
				wall = time.Since(start)
				peak, base = h.finish()
				c = callsOf(env.Server.Stats())

				b.StopTimer()
				p = planOf(b, s, d)
				if !p.Empty() {
					b.Fatalf("after apply the plan still has %d changes", len(p.Changes))
				}
				env.Server.ResetStats()
				if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{}); err != nil {
					b.Fatalf("no-change apply: %v", err)
				}
				noop = callsOf(env.Server.Stats())
				b.StartTimer()
			}
			bound := float64(n) / 50
			iamWrites := 0
			for _, op := range c.ops() {
				b.ReportMetric(float64(c.byOp[op]), op+"-calls")
				if strings.HasPrefix(op, "iam.") && isWrite(op) {
					iamWrites += c.byOp[op]
				}
			}
			b.ReportMetric(float64(c.total), "apply-calls")
			b.ReportMetric(wall.Seconds(), "apply-s")
			b.ReportMetric(bound, "quota-bound-s")
			b.ReportMetric(wall.Seconds()/bound, "ratio-to-bound")
			// IAM writes go at iamWriteRate (the engine's client-side rate
			// and the sandbox's quota), beside the secrets: the apply's
			// bound is about max(N/50, IAM writes/rate).
			b.ReportMetric(float64(iamWrites)/iamWriteRate(), "iam-write-s")
			b.ReportMetric(peak, "peak-heap-MB")
			b.ReportMetric(peak-base, "apply-heap-MB")
			b.ReportMetric(float64(c.throttled), "throttles")
			b.ReportMetric(float64(noop.writes), "noop-writes")
		})
	}
}

// BenchmarkValidateExamples loads and evaluates every stage of every
// example, which is what `secretboot validate -all-stages` does before it
// renders anything. Payload sources (env) read a fixed fake value; spec
// variables come from the stages, not the environment.
func BenchmarkValidateExamples(b *testing.B) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "examples", "*"))
	if err != nil {
		b.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if strings.HasPrefix(name, "SECRETBOOT_VAR_") {
			return "", false
		}
		return "example-value", true
	}
	for _, dir := range dirs {
		// examples/ci holds CI workflows, not a spec.
		if specs, _ := filepath.Glob(filepath.Join(dir, "*.hcl")); len(specs) == 0 {
			continue
		}
		b.Run(filepath.Base(dir), func(b *testing.B) {
			for b.Loop() {
				cfg, diags := spec.Load(dir)
				if diags.HasErrors() {
					b.Fatalf("load: %s", diags.Error())
				}
				for _, st := range cfg.Stages() {
					if _, diags := cfg.Evaluate(st, spec.EvalOptions{LookupEnv: env}); diags.HasErrors() {
						b.Fatalf("stage %s: %s", st, diags.Error())
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/validate")
		})
	}
}

// BenchmarkValidate is `secretboot validate` of a generated stage in
// process: load, evaluate, and the IAM limit checks. N=1,000 always,
// N=10,000 with SECRETBOOT_BENCH_LARGE=1; R=200 so that every secret has
// a reader (a secret without one is a warning, which is not what is
// measured here).
func BenchmarkValidate(b *testing.B) {
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
				cfg, diags := spec.Load(dir)
				if diags.HasErrors() {
					b.Fatalf("load: %s", diags.Error())
				}
				d, diags := cfg.Evaluate(scale.Stage, spec.EvalOptions{LookupEnv: func(string) (string, bool) { return "", false }})
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
