package leaktest

import (
	"flag"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// exercised records, for TestNoLeakFlagCoverage, every command and every
// (command, flag) pair that a test of the package ran, and the top-level
// tests that ran the CLI.
var exercised = struct {
	sync.Mutex
	commands map[string]bool // "plan", "sandbox serve"
	pairs    map[string]bool // "plan --json", "sandbox serve --accounts"
	tests    map[string]bool
}{commands: map[string]bool{}, pairs: map[string]bool{}, tests: map[string]bool{}}

// recordRun notes the command and flags of one CLI run by test t. The
// command is the words of args that name a command path (knownCommands);
// flags are the words that start with a dash, in either form (-json,
// --out=FILE). Flag values never look like commands in the harness.
func recordRun(t testing.TB, args []string) {
	var path []string
	var flags []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			flags = append(flags, name)
			continue
		}
		if next := strings.Join(append(slices.Clone(path), a), " "); knownCommands[next] {
			path = append(path, a)
		}
	}
	cmd := strings.Join(path, " ")
	exercised.Lock()
	defer exercised.Unlock()
	exercised.tests[strings.Split(t.Name(), "/")[0]] = true
	exercised.commands[cmd] = true
	for _, f := range flags {
		exercised.pairs[cmd+" --"+f] = true
	}
}

// knownCommands are the command paths of the CLI, for recordRun to tell a
// command from an argument; TestNoLeakFlagCoverage fails on a command of
// the CLI missing here.
var knownCommands = map[string]bool{
	"apply": true, "audit": true, "completion": true, "destroy": true, "fmt": true, "import": true, "init": true,
	"man": true, "output": true, "plan": true, "policy": true, "sandbox": true, "sandbox serve": true, "stages": true,
	"validate": true, "verify": true, "version": true, "help": true, "__complete": true,
}

// flagExemptions are the flags the harness does not run, by command ("*"
// for every command), each with the reason it cannot change what a payload
// could reach. Flags are space-separated long names.
var flagExemptions = map[string][]struct{ flags, reason string }{
	"*": {
		{"help", "prints cobra's usage text, made from the command definitions alone: no spec is read, no AWS call made"},
		{"no-color", "the flag only turns colour off, and colour is on only on a terminal: TestNoLeakTerminal runs on one, " +
			"with and without --no-color, where script(1) is there to make it (it skips elsewhere, so it is not a test the guard waits for)"},
	},
	// Commands that accept the global flags without using them; "" is
	// secretboot without a command.
	"":              {{"spec stage var profile sandbox debug parallelism", "without a command secretboot prints its usage, or its version with --version"}},
	"version":       {{"spec stage var profile sandbox debug parallelism", "version reads no spec and makes no AWS call"}},
	"completion":    {{"spec stage var profile sandbox debug parallelism", "completion prints a script made from the command definitions"}},
	"man":           {{"spec stage var profile sandbox debug parallelism", "man writes pages made from the command definitions"}},
	"init":          {{"stage var profile sandbox debug parallelism", "init writes a fixed scaffold and makes no AWS call"}},
	"fmt":           {{"stage var profile sandbox debug parallelism", "fmt rewrites every file without evaluating it or calling AWS"}},
	"validate":      {{"profile sandbox debug parallelism", "validate makes no AWS call"}},
	"stages":        {{"stage var profile debug parallelism", "stages lists every stage block, unevaluated, without an AWS call"}},
	"sandbox serve": {{"spec stage var profile sandbox parallelism", "the server reads no spec and calls no AWS"}, {"force-delete-lag", "only delays the reuse of a force-deleted name, which no test of the harness recreates"}},
}

// exemption returns the reason flag is exempt for cmd, or "".
func exemption(cmd, flag string) string {
	for _, c := range []string{cmd, "*"} {
		for _, e := range flagExemptions[c] {
			if slices.Contains(strings.Fields(e.flags), flag) {
				return e.reason
			}
		}
	}
	return ""
}

// TestNoLeakFlagCoverage checks that every flag of every command, as cobra
// lists it (`secretboot __complete COMMAND --`), was run by a test of the
// package or is exempt with a reason: a new flag that can change output
// must be scanned before it ships. It runs after the other tests (it is the
// only parallel top-level test, and parallel top-level tests wait for the
// sequential ones), and only when every test that records runs has run.
func TestNoLeakFlagCoverage(t *testing.T) {
	t.Parallel()
	if f := flag.Lookup("test.skip"); f != nil && f.Value.String() != "" {
		t.Skip("-skip may have left out runs")
	}
	exercised.Lock()
	var missing []string
	for _, name := range recordingTests {
		if !exercised.tests[name] {
			missing = append(missing, name)
		}
	}
	exercised.Unlock()
	if len(missing) > 0 {
		t.Skipf("checked only when the whole harness runs; did not run: %v", missing)
	}

	tree := commandTree(t, nil)
	tree[""] = commandFlags(t, nil)
	var paths []string
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if p != "" && !knownCommands[p] {
			t.Errorf("command %q is not exercised by the no-payload harness (add it to knownCommands and run it)", p)
		}
	}
	exercised.Lock()
	defer exercised.Unlock()
	checked := 0
	for _, p := range paths {
		if p == "sandbox" || p == "help" {
			continue // a group of commands, and cobra's usage text
		}
		if !exercised.commands[p] {
			t.Errorf("command %q is never run by the no-payload harness", p)
		}
		for _, f := range tree[p] {
			checked++
			key := p + " --" + f
			if exercised.pairs[key] || exemption(p, f) != "" {
				continue
			}
			t.Errorf("`secretboot %s --%s` is never run by the no-payload harness: run it, or exempt it in flagExemptions with the reason it cannot change what a payload reaches", p, f)
		}
	}
	for cmd, es := range flagExemptions {
		for _, e := range es {
			for _, f := range strings.Fields(e.flags) {
				key := cmd + " --" + f
				if cmd != "*" && !slices.Contains(tree[cmd], f) {
					t.Errorf("flagExemptions exempts `%s`, which the CLI does not have", key)
				}
				if exercised.pairs[key] {
					t.Errorf("flagExemptions exempts `%s`, which the harness runs: drop the exemption", key)
				}
			}
		}
	}
	t.Logf("leaktest: %d flags of %d commands run or exempt", checked, len(paths))
}

// recordingTests are the tests whose runs TestNoLeakFlagCoverage counts.
var recordingTests = []string{
	"TestNoLeakCommands", "TestNoLeakCrossAccount", "TestNoLeakServeFaults", "TestNoLeakAccessDenied",
	"TestNoLeakEchoEndpoint", "TestNoLeakSpecErrors", "TestNoLeakAdversarial", "TestNoLeakPanicInApply",
	"TestNoLeakIncompleteAnswer",
}

// commandTree returns, for every command path below path (with cobra's
// `help`), the long flags cobra completes for it: its own, the inherited
// global ones and --help.
func commandTree(t *testing.T, path []string) map[string][]string {
	t.Helper()
	tree := map[string][]string{}
	for _, sub := range subcommands(t, path) {
		p := append(slices.Clone(path), sub)
		tree[strings.Join(p, " ")] = commandFlags(t, p)
		for k, v := range commandTree(t, p) {
			tree[k] = v
		}
	}
	return tree
}

// subcommands lists the commands below path from its --help.
func subcommands(t *testing.T, path []string) []string {
	t.Helper()
	out, err := exec.Command(secretboot(t), append(slices.Clone(path), "--help")...).Output()
	if err != nil {
		t.Fatalf("secretboot %s --help: %v", strings.Join(path, " "), err)
	}
	var cmds []string
	inList := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Available Commands:"):
			inList = true
		case inList && strings.HasPrefix(line, "  "):
			cmds = append(cmds, strings.Fields(line)[0])
		case inList:
			inList = false
		}
	}
	return cmds
}

// commandFlags lists the long flags of the command at path, as cobra's
// completion offers them.
func commandFlags(t *testing.T, path []string) []string {
	t.Helper()
	out, err := exec.Command(secretboot(t), append(append([]string{"__complete"}, path...), "--")...).Output()
	if err != nil {
		t.Fatalf("secretboot __complete %s --: %v", strings.Join(path, " "), err)
	}
	var flags []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "--"); ok {
			name, _, _ = strings.Cut(name, "\t")
			flags = append(flags, name)
		}
	}
	if len(flags) == 0 {
		t.Fatalf("cobra completes no flag for %q", strings.Join(path, " "))
	}
	return flags
}
