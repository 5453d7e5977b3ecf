// Package review writes and checks the policy files that reviewers read in
// pull requests: for each stage, one directory holding, per role,
//
//	<role-key>.json            the read policy, as attached inline
//	<role-key>.managed-N.json  instead, when the read policy exceeds the inline
//	                           limit: the managed policies it is split into, N from 1
//	<role-key>.trust.json      the trust policy (managed roles only)
//
// Files are canonical JSON (policy.Document.Canonical), so equal policies
// give equal bytes and a diff shows exactly the grants that changed. Check
// compares the files on disk with what the spec says now and classifies
// every difference with policy.DiffGrants, so a CI gate can tell a stale
// file that hides broader access from one that only narrows it.
package review
