package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// OnPayloadLines reports whether the source snippet of d (its Subject or
// Context range) would show a line of a secret's value or binary
// attribute in files. A renderer leaves such a snippet out: the line may
// hold a literal payload (allow_literal, or the literal-credential error
// itself), and file:line:col is enough to find it.
func OnPayloadLines(files map[string]*hcl.File, d *hcl.Diagnostic) bool {
	for _, r := range []*hcl.Range{d.Subject, d.Context} {
		if r == nil || files[r.Filename] == nil {
			continue
		}
		body, ok := files[r.Filename].Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != "secret" {
				continue
			}
			for _, name := range []string{"value", "binary"} {
				if a := b.Body.Attributes[name]; a != nil && a.SrcRange.Start.Line <= r.End.Line && r.Start.Line <= a.SrcRange.End.Line {
					return true
				}
			}
		}
	}
	return false
}
