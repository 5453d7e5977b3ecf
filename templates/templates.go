// Package templates embeds the documents secretboot writes or starts from:
// trust policies per service principal (trust/) and the scaffold that
// `secretboot init` copies into a new spec directory (init/).
package templates

import "embed"

// FS holds trust/<service>.json and init/… .
//
//go:embed trust init
var FS embed.FS
