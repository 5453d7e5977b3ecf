package provision

// VersionToken lets the external tests seed secrets as apply writes them.
var VersionToken = versionToken

// RevisionToken lets the external tests recognise revisions.
var RevisionToken = revisionToken
