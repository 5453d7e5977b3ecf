package scale_test

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/scale"
)

// BenchmarkCLI measures the whole secretboot process, as a user or a CI
// job runs it, where the engine benchmarks measure the engine in process:
// wall and CPU time and peak RSS of an apply from empty, `validate`, a
// no-change `plan` and a pull request's `plan -no-payloads`, against
// `secretboot sandbox serve` in another process with AWS-like latency and
// quotas (the apply on a fresh one each time; the others on a stage
// applied beforehand without latency or quotas). N=100/R=10 always;
// N=1,000/R=50 and N=10,000/R=200 with SECRETBOOT_BENCH_LARGE=1.
func BenchmarkCLI(b *testing.B) {
	sizes := [][2]int{{100, 10}}
	if large() {
		sizes = append(sizes, [2]int{1000, 50}, [2]int{10000, 200})
	}
	for _, size := range sizes {
		n, r := size[0], size[1]
		b.Run(fmt.Sprintf("N=%d/R=%d", n, r), func(b *testing.B) {
			specDir, home := b.TempDir(), b.TempDir()
			if err := scale.Write(specDir, n, r, 1); err != nil {
				b.Fatal(err)
			}
			awsLike := []string{"--latency", "25ms", "--jitter", "10ms", "--quotas", "aws"}
			b.Run("apply", func(b *testing.B) {
				var m usage
				for b.Loop() {
					sp := serveSandboxIn(b, b.TempDir(), awsLike...)
					m.add(b, sp, specDir, "apply", "-auto-approve")
					sp.stop()
				}
				m.report(b)
			})
			setup := serveSandboxIn(b, home)
			if code, out := setup.run(b, specDir, "apply", "-auto-approve"); code != 0 {
				b.Fatalf("apply exited %d:\n%s", code, tail(out))
			}
			setup.stop()
			sp := serveSandboxIn(b, home, awsLike...)
			for _, step := range []struct {
				name string
				args []string
			}{
				{"validate", []string{"validate"}},
				{"plan", []string{"plan", "-detailed-exitcode"}},
				{"plan-no-payloads", []string{"plan", "-no-payloads", "-detailed-exitcode"}},
			} {
				b.Run(step.name, func(b *testing.B) {
					var m usage
					for b.Loop() {
						m.add(b, sp, specDir, step.args...)
					}
					m.report(b)
				})
			}
		})
	}
}

// usage sums what the secretboot processes of a benchmark used.
type usage struct {
	cpu time.Duration
	rss int64 // KiB, the largest of any run
}

// add runs secretboot with args against sp, which must exit 0 (for plan
// -detailed-exitcode: no change), and adds its CPU time and peak RSS.
func (u *usage) add(b *testing.B, sp *sandboxProc, specDir string, args ...string) {
	cmd := exec.Command(cli(b), append([]string{"--spec", specDir}, args...)...)
	cmd.Env = sp.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v: %v\n%s", args, err, tail(string(out)))
	}
	ps := cmd.ProcessState
	u.cpu += ps.UserTime() + ps.SystemTime()
	u.rss = max(u.rss, ps.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
}

func (u *usage) report(b *testing.B) {
	b.ReportMetric(u.cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(u.rss)/1024, "peak-rss-MiB")
}

// tail is the end of a long output, for a failure message.
func tail(out string) string {
	if len(out) > 4000 {
		return "…" + out[len(out)-4000:]
	}
	return out
}
