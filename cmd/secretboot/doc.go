// Command secretboot turns a checked-in HCL spec into AWS Secrets Manager
// secrets plus least-privilege IAM read policies, one stage at a time.
//
// This package is the command-line edge only: it parses flags, picks streams
// and colour, renders diagnostics, and maps errors to exit codes; plans,
// progress, matrices and reports are rendered by its views package, the
// only one that writes colour. Loading and evaluating specs lives in
// package spec, talking to AWS in package provision, and the local AWS
// endpoint in package sandbox (docs/architecture.md).
//
// Every command is an options struct plus a run function that receives its
// streams, so tests drive commands with buffers (unit tests) or through
// testscript transcripts (testdata/script/*.txtar) that run the real binary
// entry point in-process.
//
// Flags follow Terraform's habit: long flags are accepted with one dash or
// two (-json and --json). Cobra only understands the double-dash form, so
// normalizeArgs rewrites a single-dash word to the double-dash form before
// cobra parses, when — and only when — the word names a long flag of the
// command being run. Values of flags are never rewritten.
package main
