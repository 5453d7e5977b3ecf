// Package redact is the last line of defence of the no-payload promise: a
// Masker knows every payload the process loaded, generated or read back, and
// replaces any occurrence of one, in the encodings a library or an endpoint
// is likely to have applied, before bytes reach a terminal, a log or a file.
//
// Masking is a backstop, not the mechanism: secretboot produces no text from
// payloads in the first place, so a masked occurrence is a bug (the CLI says
// so at exit), the way CI systems mask the secrets registered with them.
package redact
