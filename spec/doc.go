// Package spec reads a secretboot spec directory and turns it into the typed
// model the engine works on.
//
// The work happens in two steps, each collecting hcl.Diagnostics with source
// ranges rather than stopping at the first problem:
//
//   - Load parses every *.hcl file of a directory and decodes its blocks in
//     phases (project, variables, stages, roles, secrets) into a Config. Load
//     checks what does not depend on a stage: block structure, duplicates,
//     labels and reader references.
//   - Config.Evaluate resolves variables for one stage, evaluates every
//     expression and produces a Desired: final names, resolved readers and
//     sealed payloads. It checks everything that depends on values: AWS name
//     and size rules, ARN shapes, tags, generators and literal credentials.
//
// Payload sources (env, file, filebase64) yield values marked sensitive with
// cty marks before they enter an hcl.EvalContext, so they propagate through
// functions, are skipped by HCL's diagnostic writer, and every function error
// that involves a marked argument is replaced by a message without the value.
// Marks do not reach the text HCL and cty build from values, so every
// evaluation goes through evalExpr, which hides the details of diagnostics
// from expressions that could see a sensitive value or compute a payload.
// EvalOptions.Mask receives every sensitive string for output masking.
// Evaluated payloads leave the package only as Sealed values.
//
// Generator.Generate and Payload.Compose are the apply-time helpers the engine
// uses to produce the bytes it writes; Format and FormatDir back the fmt
// command.
package spec
