package spec

// MinMaskedLength is the shortest payload the CLI's output masker
// (internal/redact.MinLength, pinned equal by a test there) replaces: a
// shorter payload is protected only by secretboot producing no text from
// it, which is why validate warns about one.
const MinMaskedLength = 8
