package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestValidateExternalRoleLimit: the engine's limit of 45 external roles per
// stage (each is recorded as a tag on the stage key) fails validate, before
// any AWS call, at the first role over the limit.
func TestValidateExternalRoleLimit(t *testing.T) {
	spec := func(n int) string {
		var b strings.Builder
		b.WriteString("project = \"shop\"\n\nstage \"dev\" {\n  region     = \"us-east-1\"\n  account_id = \"000000000000\"\n}\n")
		var readers []string
		for i := range n {
			fmt.Fprintf(&b, "\nrole \"ext%02d\" {\n  external = \"arn:aws:iam::000000000000:role/ext%02d\"\n}\n", i, i)
			readers = append(readers, fmt.Sprintf("role.ext%02d", i))
		}
		fmt.Fprintf(&b, "\nsecret \"app/x\" {\n  readers = [%s]\n  value   = env(\"DB_PASSWORD\")\n}\n", strings.Join(readers, ", "))
		return b.String()
	}
	code, out, errOut := cliRun(t, IOStreams{}, "validate", "--spec", writeSpec(t, spec(45)))
	if code != exitOK {
		t.Fatalf("45 external roles: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = cliRun(t, IOStreams{}, "validate", "--spec", writeSpec(t, spec(46)))
	if code != exitError {
		t.Fatalf("46 external roles: exit %d, want %d\n%s%s", code, exitError, out, errOut)
	}
	// ext45 is the 46th role; its block starts on line 8 + 4*45 of main.hcl.
	if !strings.Contains(errOut, fmt.Sprintf("main.hcl:%d:", 8+4*45)) || !strings.Contains(errOut, "Too many external roles") || !strings.Contains(errOut, `Role "ext45"`) {
		t.Errorf("diagnostic does not point at ext45:\n%s", errOut)
	}
	if strings.Contains(out+errOut, applyCanary) {
		t.Error("the payload reached the output")
	}
}
