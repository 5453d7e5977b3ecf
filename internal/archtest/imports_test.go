package archtest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/secretboot/secretboot"

// rules are the arrows between layers that must not exist. A package
// matches a prefix when it is that package or below it.
var rules = []struct {
	from   []string // packages the rule applies to (prefixes); nil = every package
	except []string // packages exempt from it (prefixes)
	deny   string   // what they must not depend on (prefix)
	why    string
}{
	{from: []string{module + "/sandbox"}, deny: module + "/provision",
		why: "the sandbox is a fake AWS the engine is tested against; sharing the engine's code would make it agree by construction"},
	{except: []string{module + "/cmd/secretboot"}, deny: module + "/cmd/secretboot/views",
		why: "presentation belongs to the CLI: only cmd renders"},
	{from: []string{module + "/spec"}, deny: module + "/provision", why: "spec is the language; the engine reads it, not the other way round"},
	{from: []string{module + "/spec"}, deny: module + "/sandbox", why: "spec knows nothing of AWS, real or fake"},
	{from: []string{module + "/spec"}, deny: module + "/cmd", why: "spec knows nothing of the CLI"},
	{except: []string{module + "/cmd"}, deny: "golang.org/x/term",
		why: "nothing below the CLI knows about terminals"},
}

func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

func anyUnder(pkg string, prefixes []string) bool {
	for _, p := range prefixes {
		if under(pkg, p) {
			return true
		}
	}
	return false
}

// violations lists "pkg → dep: why" for every package of graph (package →
// its transitive dependencies) that breaks a rule, sorted.
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, deps := range graph {
		for _, r := range rules {
			if r.from != nil && !anyUnder(pkg, r.from) || anyUnder(pkg, r.except) {
				continue
			}
			for _, d := range deps {
				if under(d, r.deny) {
					out = append(out, pkg+" → "+d+": "+r.why)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestRulesCatchViolations shows that the rules bite, on a made-up graph
// with one breach of each.
func TestRulesCatchViolations(t *testing.T) {
	graph := map[string][]string{
		module + "/sandbox/iam":            {module + "/policy", module + "/provision"},
		module + "/provision/review":       {module + "/cmd/secretboot/views"},
		module + "/cmd/secretboot":         {module + "/cmd/secretboot/views", "golang.org/x/term"},
		module + "/cmd/secretboot/views":   {module + "/provision"},
		module + "/spec":                   {module + "/provision/verify", module + "/sandbox", module + "/cmd/secretboot/views"},
		module + "/internal/leaktest":      {module + "/provision", module + "/sandbox"},
		module + "/provision":              {"golang.org/x/term"},
		module + "/internal/redact":        nil,
		module + "/sandbox/secretsmanager": {module + "/policy"},
	}
	var got []string
	for _, v := range violations(graph) {
		got = append(got, v[:strings.Index(v, ":")])
	}
	want := []string{
		module + "/provision → golang.org/x/term",
		module + "/provision/review → " + module + "/cmd/secretboot/views",
		module + "/sandbox/iam → " + module + "/provision",
		module + "/spec → " + module + "/cmd/secretboot/views",
		module + "/spec → " + module + "/cmd/secretboot/views",
		module + "/spec → " + module + "/provision/verify",
		module + "/spec → " + module + "/sandbox",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

// TestImportGraph checks the module's real graph: each package with its
// transitive dependencies (.Deps, what go list -deps walks), test files
// excluded, since a test may reach across layers to set up a stage.
func TestImportGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	for _, p := range []string{module + "/spec", module + "/provision", module + "/sandbox", module + "/cmd/secretboot/views"} {
		if _, ok := graph[p]; !ok {
			t.Fatalf("go list did not report %s; the rules would check nothing", p)
		}
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}
