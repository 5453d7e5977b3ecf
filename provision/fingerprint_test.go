package provision

import (
	"encoding/json"
	"testing"
)

// A saved plan carries the fingerprint of what it observed, and apply
// refuses the plan when a fresh observation's differs, also when a newer
// secretboot applies it: the hashes must not change with how they are
// computed. This JSON was made by the first implementation.
func TestFingerprintIsStable(t *testing.T) {
	d := desired()
	o := inSync(d)
	s := o.Secrets["dev/app/db"]
	s.RotationEnabled = true
	s.Rotation = &ObservedRotation{LambdaARN: "arn:aws:lambda:us-east-1:111111111111:function:rot", AutomaticallyAfterDays: 30}
	o.ResourcePolicies = map[string]string{"dev/app/db": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}`}
	r := o.Roles["shop-dev-web"]
	r.Parts = []*ObservedPolicy{{Name: "shop-dev-web-read-1", DefaultVersion: "v2", Attached: true}}
	r.ForeignARNs, r.OtherInline, r.Tags = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, []string{"extra"}, map[string]string{"team": "web"}
	// By hand, then as Observe makes it: parsing each document once, and
	// once more from what was parsed.
	for i, canon := range []*canonicalCache{nil, {m: map[string]string{}}, nil} {
		if canon != nil {
			o.canon = canon
		}
		got, err := json.Marshal(fingerprint(o))
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"stage_key_version":"k1","secrets":{"dev/app/db":{"arn":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/db-AbCdEf","current_version":"db330137-e878-8489-a3c6-79bd014a487d","meta_hash":"3c33d34abae90c40","resource_policy_hash":"021bd57a555ae7d5"},"dev/app/stripe":{"arn":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/stripe-AbCdEf","current_version":"b252edae-2db2-8429-80eb-011dee99e4d6","meta_hash":"fbfdaca6f7a1f35c"}},"roles":{"shop-dev-web":{"arn":"arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web","trust_hash":"51e9b3c21290b8aa","policy_hash":"1d6adc0c195d4423"},"tf-reporting":{"arn":"arn:aws:iam::111111111111:role/tf/tf-reporting","trust_hash":"c67896ba4d351010","policy_hash":"14f72511025a1f32"}},"instance_profiles":{"shop-dev-web":["shop-dev-web"]}}`; string(got) != want {
			t.Errorf("fingerprint %d\n%s\nwant\n%s", i, got, want)
		}
	}
}
