package views

import (
	"testing"

	"github.com/secretboot/secretboot/provision"
)

func TestTrustSummary(t *testing.T) {
	doc := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`
	}
	for _, tc := range []struct{ old, new, want string }{
		{doc(`{"Service":"ec2.amazonaws.com"}`), doc(`{"Service":"lambda.amazonaws.com"}`), "+ lambda.amazonaws.com, - ec2.amazonaws.com"},
		{doc(`{"AWS":"arn:aws:iam::222222222222:root"}`), doc(`{"Service":"ec2.amazonaws.com"}`), "+ ec2.amazonaws.com, - AWS arn:aws:iam::222222222222:root"},
		{doc(`"*"`), doc(`{"Service":"ec2.amazonaws.com"}`), "+ ec2.amazonaws.com, - * (anyone)"},
		{"not json", doc(`{"Service":"ec2.amazonaws.com"}`), "+ ec2.amazonaws.com, - (unreadable policy)"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, doc(`{"Service":"ec2.amazonaws.com"}`),
			"policy changes, principals stay: ec2.amazonaws.com"},
	} {
		if got := TrustSummary(&provision.RoleChange{Trust: &provision.ValueChange{Old: tc.old, New: tc.new}}); got != tc.want {
			t.Errorf("TrustSummary(%s → %s) = %q, want %q", tc.old, tc.new, got, tc.want)
		}
	}
}

func TestPayloadProvenance(t *testing.T) {
	for _, tc := range []struct {
		ours bool
		want string
	}{
		{true, "(sensitive) secretboot wrote the current version for another declaration; the declared version becomes current again"},
		{false, "(sensitive) current version was replaced outside secretboot, will be moved back"},
	} {
		if got := PayloadSummary(&provision.PayloadChange{Status: provision.PayloadRestoreStage, CurrentBySecretboot: tc.ours}); got != tc.want {
			t.Errorf("ours=%v: %q", tc.ours, got)
		}
	}
}
