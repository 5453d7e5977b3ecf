package provision

// VersionToken lets the external tests seed secrets as apply writes them.
var VersionToken = versionToken

// RevisionToken lets the external tests recognise revisions.
var RevisionToken = revisionToken

// ReadRoleByRole makes s observe IAM with the per-role reads, as a caller
// denied the account-wide read does.
func ReadRoleByRole(s *Session) { s.accountDenied.Store(true) }
