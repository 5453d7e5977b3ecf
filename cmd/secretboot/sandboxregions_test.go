package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/secretboot/secretboot/spec"
)

// TestStageRegions: --sandbox serves the spec's replica regions and those
// its saved state was served with, so that a spec dropping a replica
// region still restores (and then removes) the replica.
func TestStageRegions(t *testing.T) {
	d := &spec.Desired{Region: "us-east-1", Secrets: []*spec.Secret{
		{Name: "a", Replicas: []spec.Replica{{Region: "us-west-2"}}},
		{Name: "b", Replicas: []spec.Replica{{Region: "eu-west-1"}, {Region: "us-west-2"}}},
	}}
	dir := t.TempDir()
	if got := stageRegions(d, dir); !slices.Equal(got, []string{"eu-west-1", "us-west-2"}) {
		t.Errorf("without a state: %v", got)
	}
	state := `{"secretsmanager":{},"kms":{},"kms_regions":{"ap-south-1":{},"us-west-2":{}},"iam":{},"keys":{}}`
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := stageRegions(d, dir); !slices.Equal(got, []string{"ap-south-1", "eu-west-1", "us-west-2"}) {
		t.Errorf("with a state served in ap-south-1 and us-west-2: %v", got)
	}
	if got := stageRegions(&spec.Desired{Region: "us-east-1"}, dir); !slices.Equal(got, []string{"ap-south-1", "us-west-2"}) {
		t.Errorf("a spec without replicas over that state: %v", got)
	}
}
