package main

import (
	"regexp"
	"slices"
	"strings"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// keyIDRE is the shape of a KMS key ID, the only keys the sandbox can
// create with a given ID.
var keyIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// stageKMSKeys lists the customer managed keys that the stage's secrets
// and their replicas name and that the embedded sandbox, in account and
// the secret's or replica's region, creates with those ARNs: the sandbox encrypts secrets through KMS as AWS
// does, and --sandbox is for trying a spec written for an account whose
// keys exist. A key of another account or region, or named by alias, is
// not created, and writing under it fails as it would on AWS.
func stageKMSKeys(d *spec.Desired, account string) []string {
	prefix := "arn:aws:kms:" + d.Region + ":" + account + ":key/"
	var keys []string
	for _, s := range d.Secrets {
		id, ok := strings.CutPrefix(s.KMSKeyARN, prefix)
		if ok && keyIDRE.MatchString(id) && !slices.Contains(keys, s.KMSKeyARN) {
			keys = append(keys, s.KMSKeyARN)
		}
		for _, r := range s.Replicas {
			id, ok := strings.CutPrefix(r.KMSKeyARN, "arn:aws:kms:"+r.Region+":"+account+":key/")
			if ok && keyIDRE.MatchString(id) && !slices.Contains(keys, r.KMSKeyARN) {
				keys = append(keys, r.KMSKeyARN)
			}
		}
	}
	return keys
}

// stageRegions are the regions of the stage's replicas, sorted: the
// sandbox serves them besides the stage's region (and, after a restart,
// every region its saved state has, so a spec that drops a replica region
// still finds the replica it must remove).
func stageRegions(d *spec.Desired) []string {
	var regions []string
	for _, s := range d.Secrets {
		for _, r := range s.Replicas {
			if !slices.Contains(regions, r.Region) {
				regions = append(regions, r.Region)
			}
		}
	}
	slices.Sort(regions)
	return regions
}

// stageOIDCProviders lists the OIDC providers of account that the stage's
// roles trust (irsa, github_actions) and that the embedded sandbox
// creates, as the account's administrator would have: plan refuses a
// stage whose providers do not exist.
func stageOIDCProviders(d *spec.Desired, account string) []string {
	var out []string
	for _, arn := range provision.TrustedOIDCProviders(d) {
		if strings.HasPrefix(arn, "arn:aws:iam::"+account+":oidc-provider/") {
			out = append(out, arn)
		}
	}
	return out
}
