package spec

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestParallelEvaluationIsSequential: a spec large enough to be evaluated
// on several cores gives the diagnostics, in the same order, the model,
// the files read and the masked values of evaluating it on one.
func TestParallelEvaluationIsSequential(t *testing.T) {
	defer func(m int) { minSecretsPerCore = m }(minSecretsPerCore)
	minSecretsPerCore = 50
	const n = 400
	var b strings.Builder
	b.WriteString("project = \"big\"\nstage \"dev\" {\n  region = \"us-east-1\"\n  account_id = \"123456789012\"\n}\n")
	b.WriteString("role \"app\" {\n  service = [\"ec2.amazonaws.com\"]\n}\n")
	env := map[string]string{}
	for i := range n {
		readers := "[role.app]"
		if i%37 == 0 {
			readers = "[]" // a warning: a secret without readers
		}
		value := fmt.Sprintf("env(\"V%d\")", i)
		env[fmt.Sprintf("V%d", i)] = fmt.Sprintf("value-of-secret-%05d", i)
		if i%41 == 0 {
			env[fmt.Sprintf("V%d", i)] = "short" // a warning: too short to mask
		}
		if i%29 == 0 {
			value = "file(\"payload.txt\")"
		}
		fmt.Fprintf(&b, "secret \"app/s%05d\" {\n  readers = %s\n  value = %s\n}\n", i, readers, value)
	}
	valid := b.String()
	// Errors in every part: an unset variable, a bad recovery window.
	invalid := strings.Replace(valid, "env(\"V7\")", "env(\"UNSET\")", 1)
	last := fmt.Sprintf("secret \"app/s%05d\" {\n", n-1)
	invalid = strings.Replace(invalid, last, last+"  recovery_window_days = 1\n", 1)

	for name, src := range map[string]string{"valid": valid, "invalid": invalid} {
		t.Run(name, func(t *testing.T) {
			c, diags := Load(writeSpec(t, map[string]string{"main.hcl": src, "payload.txt": "a payload read from a file"}))
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			type result struct {
				Diags   string
				Desired *Desired
				Masked  []string
			}
			evaluate := func(procs int) result {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				var r result
				var diags hcl.Diagnostics
				var mu sync.Mutex // Mask is called concurrently
				r.Desired, diags = c.Evaluate("dev", EvalOptions{LookupEnv: envMap(env), Mask: func(b []byte) {
					mu.Lock()
					defer mu.Unlock()
					r.Masked = append(r.Masked, string(b))
				}})
				r.Diags = renderDiags(c.Files(), diags)
				return r
			}
			one, four := evaluate(1), evaluate(4)
			// The caller's Mask is called one at a time, in no set order.
			slices.Sort(one.Masked)
			slices.Sort(four.Masked)
			if name == "invalid" && (!strings.Contains(one.Diags, "UNSET") || !strings.Contains(one.Diags, "recovery window")) {
				t.Fatalf("an error is missing (the first part's and the last's):\n%s", one.Diags)
			}
			if strings.Count(one.Diags, "Secret without readers") != n/37+1 {
				t.Fatalf("warnings missing:\n%s", one.Diags)
			}
			if name == "valid" && (one.Desired == nil || len(one.Desired.PayloadFiles) != 1) {
				t.Fatalf("the valid spec evaluates to %+v", one.Desired)
			}
			if diff := cmp.Diff(one, four, cmpOpts); diff != "" {
				t.Errorf("evaluation on 4 cores differs from 1 (-1 +4):\n%s", diff)
			}
		})
	}
}
