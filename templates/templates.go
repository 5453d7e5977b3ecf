// Package templates embeds the documents secretboot writes or starts from:
// trust policies per service principal (trust/), the scaffold that
// `secretboot init` copies into a new spec directory (init/), and the
// deployer's installers, a Terraform module and a CloudFormation template
// (deployer/).
package templates

import "embed"

// FS holds trust/<service>.json, init/… and deployer/… .
//
//go:embed trust init deployer
var FS embed.FS
