// Package leaktest proves secretboot's first promise: a secret payload goes
// to the Secrets Manager request body and nowhere else.
//
// The package holds tests only. They build the secretboot binary once and
// run every command as a real process against the sandbox, with canary
// payloads from every source (env, file, filebase64, a literal with
// allow_literal, generated values and the stage key read back from the
// sandbox, a value written by someone else and then imported), and scan
// every byte the process writes: standard output and error, saved plans,
// policy and output files, --debug logs, the sandbox's request log and every
// file under the workspace except the sandbox's state file, which holds
// payloads by design. Each canary is searched raw and encoded (JSON, Go
// quoting, base64 standard and URL-safe with and without padding and at all
// three alignments, hex, URL query and path escaping).
//
// The main spec encrypts a replicated secret under customer managed keys
// (one per region); TestNoLeakCrossAccount runs a stage with a reader in
// another account against `sandbox serve --accounts`; TestNoLeakTerminal
// runs on a pseudo-terminal (colour, confirmation prompts, live progress).
//
// Error paths run the same scan: a missing environment variable beside a
// present canary, oversize and non-UTF-8 payloads, injected 5xx and
// throttling from `sandbox serve`, AccessDenied from a role without rights,
// and a panic inside apply provoked by a malformed AWS response.
//
// TestNoLeakFlagCoverage lists every command's flags from cobra and fails
// on one that no test runs and that flagExemptions does not exempt with a
// reason.
//
// The adversarial corpus (testdata/adversarial, TestNoLeakAdversarial) is a
// spec per way for an expression to fail or be printed while it touches a
// payload: operators, functions, for/if/splat/conditional/template forms,
// computed keys and indexes, variable conversions, --var,
// SECRETBOOT_VAR_, payloads where none belongs, and allow_literal payloads
// under fmt. Each runs through validate, plan, apply and fmt twice: with
// the CLI's output masker disabled (the binary built with the leaktest tag,
// SECRETBOOT_LEAKTEST_UNMASKED=1), which proves that no sensitive text is
// produced at all, and as shipped. TestNoLeakEchoEndpoint runs plan, apply
// and import against an endpoint that answers with errors echoing request
// bodies, for every Secrets Manager operation the CLI calls. No command may print the masker's report line either: a masked
// leak is still a leak.
//
// FuzzNoLeak builds random specs around canaries and runs validate and plan
// in-process, through the same spec, provision and render packages the CLI
// uses.
package leaktest
