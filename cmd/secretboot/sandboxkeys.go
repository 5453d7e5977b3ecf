package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/secretboot/secretboot/spec"
)

// keyIDRE is the shape of a KMS key ID, the only keys the sandbox can
// create with a given ID.
var keyIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// stageKMSKeys lists the customer managed keys that the stage's secrets
// name and that the embedded sandbox, in account and the stage's region,
// creates with those ARNs: the sandbox encrypts secrets through KMS as AWS
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

// stageRegions are the regions the sandbox serves besides the stage's,
// sorted: those of the stage's replicas, and those the saved state in
// stateDir was served with (the sandbox saves each served region's KMS
// state under kms_regions), so that a spec that drops a replica region
// still finds the replicas it must remove.
func stageRegions(d *spec.Desired, stateDir string) []string {
	var regions []string
	if b, err := os.ReadFile(filepath.Join(stateDir, "state.json")); err == nil {
		var st struct {
			KMSRegions map[string]json.RawMessage `json:"kms_regions"`
		}
		if json.Unmarshal(b, &st) == nil {
			for r := range st.KMSRegions {
				if r != d.Region {
					regions = append(regions, r)
				}
			}
		}
	}
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
