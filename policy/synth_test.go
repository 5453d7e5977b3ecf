package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/templates"
)

const (
	keyA = "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-aaaa-4c2e-9a0e-000000000001"
	keyB = "arn:aws:kms:us-east-1:111111111111:key/0b9d3c3e-bbbb-4c2e-9a0e-000000000002"
)

func secretARN(name string) string {
	return "arn:aws:secretsmanager:us-east-1:111111111111:secret:" + name
}

// manySecrets returns n grants on distinct secrets, every third with
// DescribeSecret and every fifth encrypted with keyA.
func manySecrets(n int) []Grant {
	var gs []Grant
	for i := range n {
		g := Grant{SecretARN: secretARN(fmt.Sprintf("prod/service-%03d/database-credentials-%06X", i, i*7919))}
		g.Describe = i%3 == 0
		if i%5 == 0 {
			g.KMSKeyARN = keyA
		}
		gs = append(gs, g)
	}
	return gs
}

func TestReadPolicyGolden(t *testing.T) {
	tests := []struct {
		name   string
		grants []Grant
	}{
		{"read_plain", []Grant{{SecretARN: secretARN("dev/app/db/credentials-AbCdEf")}}},
		{"read_pending", []Grant{{SecretARN: secretARN("dev/app/db/credentials-??????")}}},
		{"read_multi", []Grant{
			{SecretARN: secretARN("dev/app/stripe-key-GhIjKl")},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf")},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf")}, // duplicates collapse
		}},
		{"read_describe", []Grant{
			{SecretARN: secretARN("dev/app/stripe-key-GhIjKl")},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf"), Describe: true},
		}},
		{"read_describe_all", []Grant{
			{SecretARN: secretARN("dev/app/stripe-key-GhIjKl"), Describe: true},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf"), Describe: true},
		}},
		{"read_kms", []Grant{
			{SecretARN: secretARN("dev/tls/key-MnOpQr"), KMSKeyARN: keyA},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf")},
		}},
		{"read_kms_two_keys_pending", []Grant{
			{SecretARN: secretARN("dev/tls/key-??????"), KMSKeyARN: keyB},
			{SecretARN: secretARN("dev/tls/cert-StUvWx"), KMSKeyARN: keyB, Describe: true},
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf"), KMSKeyARN: keyA},
		}},
		// A secret read in its primary region and two replicas: exact
		// ARNs per region, the replica key's grant through Secrets
		// Manager of the replica's region only.
		{"read_replicas", []Grant{
			{SecretARN: secretARN("dev/app/db/credentials-AbCdEf"), KMSKeyARN: keyA},
			{SecretARN: strings.Replace(secretARN("dev/app/db/credentials-AbCdEf"), "us-east-1", "us-west-2", 1),
				KMSKeyARN: "arn:aws:kms:us-west-2:111111111111:key/0b9d3c3e-cccc-4c2e-9a0e-000000000003", Region: "us-west-2"},
			{SecretARN: strings.Replace(secretARN("dev/app/db/credentials-AbCdEf"), "us-east-1", "eu-west-1", 1), Region: "eu-west-1"},
			{SecretARN: strings.Replace(secretARN("dev/app/new-??????"), "us-east-1", "us-west-2", 1),
				KMSKeyARN: "arn:aws:kms:us-west-2:111111111111:key/0b9d3c3e-cccc-4c2e-9a0e-000000000003", Region: "us-west-2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ReadPolicy("us-east-1", tt.grants)
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), d.Canonical())
			if again, err := Parse(d.Canonical()); err != nil {
				t.Errorf("synthesized policy does not parse: %v", err)
			} else if diff := cmp.Diff(d, again); diff != "" {
				t.Errorf("synthesized policy is not canonical (-want +got):\n%s", diff)
			}
			// The same grants in reverse order give the same bytes.
			rev := append([]Grant(nil), tt.grants...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if !bytes.Equal(ReadPolicy("us-east-1", rev).Canonical(), d.Canonical()) {
				t.Error("ReadPolicy depends on the order of grants")
			}
		})
	}
}

func TestReadPolicyNoGrants(t *testing.T) {
	if d := ReadPolicy("us-east-1", nil); d != nil {
		t.Errorf("ReadPolicy(nil) = %s, want nil", d.Canonical())
	}
}

// TestReadPolicyGrantsExactly checks the synthesized policy with the
// evaluator: each secret readable, other secrets and writes denied, KMS
// decrypt only through Secrets Manager for that key's secrets.
func TestReadPolicyGrantsExactly(t *testing.T) {
	a, b := secretARN("dev/a-AbCdEf"), secretARN("dev/b-GhIjKl")
	pending := secretARN("dev/c-??????")
	d := ReadPolicy("us-east-1", []Grant{{SecretARN: a, KMSKeyARN: keyA}, {SecretARN: b, Describe: true}, {SecretARN: pending, KMSKeyARN: keyA}})
	set := PolicySet{Identity: []*Document{d}}
	via := []string{"secretsmanager.us-east-1.amazonaws.com"}
	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"get a", Request{Action: actionGetSecretValue, Resource: a}, Allowed},
		{"get b", Request{Action: actionGetSecretValue, Resource: b}, Allowed},
		{"get created c", Request{Action: actionGetSecretValue, Resource: secretARN("dev/c-XyZ123")}, Allowed},
		{"get other", Request{Action: actionGetSecretValue, Resource: secretARN("dev/d-AbCdEf")}, ImplicitDeny},
		{"describe a", Request{Action: actionDescribeSecret, Resource: a}, ImplicitDeny},
		{"describe b", Request{Action: actionDescribeSecret, Resource: b}, Allowed},
		{"put a", Request{Action: "secretsmanager:PutSecretValue", Resource: a}, ImplicitDeny},
		{"decrypt a via secrets manager", Request{Action: actionKMSDecrypt, Resource: keyA, Context: map[string][]string{
			"kms:ViaService": via, "kms:EncryptionContext:SecretARN": {a}}}, Allowed},
		{"decrypt created c", Request{Action: actionKMSDecrypt, Resource: keyA, Context: map[string][]string{
			"kms:ViaService": via, "kms:EncryptionContext:SecretARN": {secretARN("dev/c-XyZ123")}}}, Allowed},
		{"decrypt b's context", Request{Action: actionKMSDecrypt, Resource: keyA, Context: map[string][]string{
			"kms:ViaService": via, "kms:EncryptionContext:SecretARN": {b}}}, ImplicitDeny},
		{"decrypt directly", Request{Action: actionKMSDecrypt, Resource: keyA, Context: map[string][]string{
			"kms:EncryptionContext:SecretARN": {a}}}, ImplicitDeny},
		{"decrypt in another region", Request{Action: actionKMSDecrypt, Resource: keyA, Context: map[string][]string{
			"kms:ViaService": {"secretsmanager.eu-west-1.amazonaws.com"}, "kms:EncryptionContext:SecretARN": {a}}}, ImplicitDeny},
		{"decrypt with another key", Request{Action: actionKMSDecrypt, Resource: keyB, Context: map[string][]string{
			"kms:ViaService": via, "kms:EncryptionContext:SecretARN": {a}}}, ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(set, tt.req).Decision; got != tt.want {
				t.Errorf("Evaluate() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTrustPolicy(t *testing.T) {
	tests := []struct {
		name     string
		services []string
		golden   string
		wantErr  string
	}{
		{name: "ec2", services: []string{"ec2.amazonaws.com"}, golden: "trust_ec2"},
		{name: "several services merge", services: []string{"lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com"}, golden: "trust_merged"},
		{name: "unknown", services: []string{"s3.amazonaws.com"}, wantErr: `no template for service principal "s3.amazonaws.com"`},
		{name: "path", services: []string{"../init/main"}, wantErr: "invalid service principal"},
		{name: "none", wantErr: "no service principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := TrustPolicy(tt.services)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("TrustPolicy() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden+".golden"), d.Canonical())
		})
	}
}

// TestTrustTemplatesCanonical keeps the embedded templates in canonical
// form, so they read exactly like the reviewer files generated from them.
func TestTrustTemplatesCanonical(t *testing.T) {
	entries, err := fs.ReadDir(templates.FS, "trust")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			b, err := fs.ReadFile(templates.FS, "trust/"+e.Name())
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(d.Canonical()), string(b)); diff != "" {
				t.Errorf("template is not canonical (-want +got):\n%s", diff)
			}
			svc := strings.TrimSuffix(e.Name(), ".json")
			if r := Evaluate(PolicySet{Resource: d}, Request{Principal: svc, Action: "sts:AssumeRole"}); r.Decision != Allowed {
				t.Errorf("%s may not assume a role trusting it: %s", svc, r.Decision)
			}
		})
	}
}

func TestFit(t *testing.T) {
	small := ReadPolicy("us-east-1", manySecrets(3))
	layout, err := Fit(small, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Layout{Inline: small}, layout); diff != "" {
		t.Errorf("small policy layout (-want +got):\n%s", diff)
	}
}

// TestFitSplit checks the split of a role reading 300 secrets: every
// managed document within its limit and within the attachment quota, and
// exactly the same access as the unsplit policy.
func TestFitSplit(t *testing.T) {
	for _, n := range []int{120, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			doc := ReadPolicy("us-east-1", manySecrets(n))
			if Size(doc) <= DefaultLimits.InlineMax {
				t.Fatalf("test policy of %d characters fits inline", Size(doc))
			}
			layout, err := Fit(doc, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if layout.Inline != nil || len(layout.Managed) < 2 || len(layout.Managed) > DefaultLimits.MaxAttachments {
				t.Fatalf("layout: inline %v, %d managed", layout.Inline != nil, len(layout.Managed))
			}
			var parts bytes.Buffer
			for i, m := range layout.Managed {
				if got := RawSize(m.Canonical()); got > DefaultLimits.ManagedMax {
					t.Errorf("managed %d has %d characters, over %d", i+1, got, DefaultLimits.ManagedMax)
				}
				if again, err := Parse(m.Compact()); err != nil || Size(again) != Size(m) {
					t.Errorf("managed %d does not round-trip: %v", i+1, err)
				}
				fmt.Fprintf(&parts, "# managed %d: %d characters\n%s", i+1, Size(m), m.Canonical())
			}
			for _, c := range DiffGrants([]*Document{doc}, layout.Managed) {
				if c.Broadens {
					t.Errorf("split broadens: %+v", c)
				}
			}
			for _, c := range DiffGrants(layout.Managed, []*Document{doc}) {
				if c.Broadens {
					t.Errorf("split narrows: %+v", c)
				}
			}
			if n == 120 {
				golden.Check(t, filepath.Join("testdata", "split.golden"), parts.Bytes())
			}
			again, err := Fit(doc, Limits{})
			if err != nil || !cmp.Equal(layout, again) {
				t.Error("Fit is not deterministic")
			}
		})
	}
}

func TestFitSplitsKMSCondition(t *testing.T) {
	var grants []Grant
	for i := range 40 {
		grants = append(grants, Grant{SecretARN: secretARN(fmt.Sprintf("dev/s%02d-AbCdEf", i)), KMSKeyARN: keyA})
	}
	doc := ReadPolicy("us-east-1", grants)
	limits := Limits{InlineMax: 1000, ManagedMax: 1500, MaxAttachments: 20}
	layout, err := Fit(doc, limits)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range layout.Managed {
		if Size(m) > limits.ManagedMax {
			t.Errorf("managed policy of %d characters", Size(m))
		}
		for _, s := range m.Statement {
			if s.Sid != "DecryptWithKey1" {
				continue
			}
			if diff := cmp.Diff(StringList{"secretsmanager.us-east-1.amazonaws.com"}, s.Condition["StringEquals"]["kms:ViaService"]); diff != "" {
				t.Errorf("ViaService condition lost (-want +got):\n%s", diff)
			}
			for _, a := range s.Condition["StringEquals"]["kms:EncryptionContext:SecretARN"] {
				seen[a]++
			}
		}
	}
	if len(seen) != 40 {
		t.Errorf("KMS condition covers %d secrets, want 40", len(seen))
	}
	for a, n := range seen {
		if n != 1 {
			t.Errorf("%s in %d KMS statements", a, n)
		}
	}
}

func TestFitTooLarge(t *testing.T) {
	tests := []struct {
		name   string
		doc    *Document
		limits Limits
		want   TooLargeError
	}{
		{
			name:   "more documents than attachments",
			doc:    ReadPolicy("us-east-1", manySecrets(1000)),
			limits: DefaultLimits,
			want:   TooLargeError{Available: 61440, Documents: 26, Limits: DefaultLimits},
		},
		{
			name: "one statement larger than a managed policy",
			doc: &Document{Version: "2012-10-17", Statement: []Statement{
				{Effect: Allow, Action: StringList{actionKMSDecrypt}, Resource: StringList{strings.Repeat("k", 300)}},
			}},
			limits: Limits{InlineMax: 100, ManagedMax: 200, MaxAttachments: 10},
			want:   TooLargeError{Available: 2000, Limits: Limits{InlineMax: 100, ManagedMax: 200, MaxAttachments: 10}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fit(tt.doc, tt.limits)
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("Fit() error = %v, want a *TooLargeError", err)
			}
			tt.want.Needed = Size(tt.doc)
			if diff := cmp.Diff(&tt.want, tl); diff != "" {
				t.Errorf("TooLargeError mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tt.want.Needed)) {
				t.Errorf("error %q does not name the characters needed", err)
			}
		})
	}
	// A raised attachment quota makes room.
	if _, err := Fit(ReadPolicy("us-east-1", manySecrets(600)), Limits{MaxAttachments: 20}); err != nil {
		t.Errorf("with 20 attachments: %v", err)
	}
}

func TestInlineRoom(t *testing.T) {
	for _, tt := range []struct {
		other, want int
	}{
		{0, 10240},
		{240, 10000},
		{10240, 0},
		{12000, 0}, // an owner already over the limit leaves nothing, not less
	} {
		if got := DefaultLimits.InlineRoom(tt.other); got != tt.want {
			t.Errorf("InlineRoom(%d) = %d, want %d", tt.other, got, tt.want)
		}
	}
}
