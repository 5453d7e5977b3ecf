// Package render turns a provision.Plan and provision.Outputs into what
// people and tools read: terraform-like text (optionally coloured), the
// versioned JSON format of docs/plan-json.md, Markdown for pull-request
// comments, and outputs as JSON or Terraform tfvars.
//
// Every function is pure and writes to an io.Writer; output is
// deterministic because plans are sorted when they are made and every map
// is rendered in key order. A plan holds no payload, so nothing here can
// print one: payloads appear only as "(sensitive)" with field names.
package render
