// Package sandboxtest starts a sandbox for a test and hands back an
// aws.Config that points every AWS SDK client at it:
//
//	env := sandboxtest.Start(t, sandbox.Options{})
//	sm := secretsmanager.NewFromConfig(env.Config)
//
// The server is an in-process httptest server on a loopback port; it is shut
// down, and its state flushed, when the test ends.
package sandboxtest
