package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/cmd/secretboot/views"
	"github.com/secretboot/secretboot/spec"
)

// writeDiagnosticsText renders each diagnostic the HCL way — severity,
// summary, a source snippet with the range underlined, and the detail —
// prefixed with file:line:col, which HCL's writer leaves out and editors and
// terminals turn into links. HCL's writer skips values marked sensitive, so
// payloads from env() or file() never reach the snippet's "with …" lines.
func writeDiagnosticsText(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	// Width 0: no wrapping, so output does not depend on the terminal.
	dw := hcl.NewDiagnosticTextWriter(w, files, 0, color)
	for _, d := range diags {
		if d.Subject != nil {
			pos := fmt.Sprintf("%s:%d:%d:", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
			if _, err := fmt.Fprintf(w, "%s ", views.Colors{On: color}.Strong(pos)); err != nil {
				return err
			}
		}
		if spec.OnPayloadLines(files, d) {
			// The snippet would copy the source lines of a payload, which
			// may be a literal (allow_literal, or the literal-credential
			// error itself), into terminals and CI logs; file:line:col
			// above still says where to look.
			plain := *d
			plain.Subject, plain.Context, plain.Expression, plain.EvalContext = nil, nil, nil, nil
			d = &plain
		}
		if err := dw.WriteDiagnostic(d); err != nil {
			return err
		}
	}
	return nil
}

// jsonDiagnostic is one diagnostic in -json output (docs/cli.md). It holds
// the source range but no snippet: the snippet is derived from the files the
// reader already has, and leaving it out keeps expression values out of JSON.
type jsonDiagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Stage    string     `json:"stage,omitempty"` // set when the diagnostic comes from evaluating a stage
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

func toJSONDiagnostics(stage string, diags hcl.Diagnostics) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail, Stage: stage}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			r := d.Subject
			jd.Range = &jsonRange{
				Filename: r.Filename,
				Start:    jsonPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
				End:      jsonPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
			}
		}
		out = append(out, jd)
	}
	return out
}

// writeJSON writes v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
