// Package views is secretboot's presentation layer: it turns what the
// engine computes into what people and tools read, and only the CLI
// imports it. It renders a provision.Plan as terraform-like text, the
// versioned JSON of docs/plan-json.md or Markdown for pull-request
// comments; apply's progress and summary; outputs as JSON or Terraform
// tfvars; verify's matrix; and what policy did to the reviewer files.
//
// Markdown (the plan's and verify's) is for pull-request comments: it stays
// within GitHub's comment limit, saying what it cut, escapes every piece of
// spec text so that none becomes HTML or Markdown syntax, and draws who
// reads what as a Mermaid diagram (also written as DOT for Graphviz).
//
// Colours come from one scheme, Colors, whose methods name meanings (Good,
// Bad, Broadens, …); nothing else in secretboot writes ANSI sequences, and
// nothing below the CLI knows about terminals.
//
// Every function writes to an io.Writer and is deterministic: plans are
// sorted when they are made and every map is rendered in key order. A plan
// holds no payload, so nothing here can print one: payloads appear only as
// "(sensitive)" with field names.
package views
