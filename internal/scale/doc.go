// Package scale measures secretboot at the sizes platform teams run it at
// and proves that apply converges when AWS throttles, fails, lags or the
// process dies half-way.
//
// The package itself only generates specs: Source writes the HCL of a stage
// with n secrets read by r roles, and Desired runs that HCL through
// spec.Load and Config.Evaluate, the path the CLI takes, so that benchmarks
// and fault tests exercise the real parser and evaluator rather than a
// hand-built model.
//
// The benchmarks and the fault-injection suite live in this package's
// tests; docs/performance.md holds the measured figures and the commands
// that reproduce them:
//
//	go test -bench . -run '^$' -benchtime 1x ./internal/scale/                          # smoke, seconds
//	SECRETBOOT_BENCH_LARGE=1 go test -bench . -run '^$' -benchtime 1x -timeout 2h ./internal/scale/
package scale
