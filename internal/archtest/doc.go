// Package archtest holds the tests that keep secretboot's packages in
// their layers (docs/architecture.md); it has no code of its own.
package archtest
