package views

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/internal/escape"
	"github.com/secretboot/secretboot/provision"
)

// JSON writes the plan in the versioned format of docs/plan-json.md.
// encoding/json sorts map keys, and plans are sorted when made, so the
// bytes are deterministic.
func JSON(w io.Writer, p *provision.Plan) error {
	return writeJSON(w, p)
}

// OutputsJSON writes outputs as an indented JSON object.
func OutputsJSON(w io.Writer, o *provision.Outputs) error {
	return writeJSON(w, o)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// OutputsTFVars writes outputs as Terraform variable definitions, three
// maps keyed by spec label.
func OutputsTFVars(w io.Writer, o *provision.Outputs) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# secretboot outputs for %s/%s\n", o.Project, o.Stage)
	tfMap(&b, "secretboot_secret_arns", o.SecretARNs)
	tfMap(&b, "secretboot_role_arns", o.RoleARNs)
	tfMap(&b, "secretboot_instance_profiles", o.InstanceProfiles)
	_, err := io.WriteString(w, b.String())
	return err
}

func tfMap(b *strings.Builder, name string, m map[string]string) {
	keys := make([]string, 0, len(m))
	width := 0
	for k := range m {
		keys = append(keys, k)
		width = max(width, len(escape.HCLString(k)))
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		fmt.Fprintf(b, "%s = {}\n", name)
		return
	}
	fmt.Fprintf(b, "%s = {\n", name)
	for _, k := range keys {
		fmt.Fprintf(b, "  %-*s = %s\n", width, escape.HCLString(k), escape.HCLString(m[k]))
	}
	b.WriteString("}\n")
}
