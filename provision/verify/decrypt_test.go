package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision/verify"
)

// The customer managed keys of testdata/cmk: key1 encrypts dev/app/db (read
// by web) and dev/app/queue (read by worker), key2 dev/app/audit (read by
// both); dev/app/config uses the AWS managed key.
const (
	key1 = "arn:aws:kms:us-east-1:000000000000:key/11111111-1111-1111-1111-111111111111"
	key2 = "arn:aws:kms:us-east-1:000000000000:key/22222222-2222-2222-2222-222222222222"
)

// decrypts lists the allowed kms:Decrypt cells of a matrix as "role secret",
// and counts every kms:Decrypt cell, allowed or not.
func decrypts(m *verify.Matrix) (allowed []string, cells int) {
	for _, c := range m.Cells {
		if c.Action != verify.KMSDecrypt {
			continue
		}
		cells++
		if c.Allowed {
			allowed = append(allowed, c.Role+" "+c.Secret)
		}
	}
	return allowed, cells
}

func TestExpectedDecrypt(t *testing.T) {
	d := shop()
	d.Secrets[0].KMSKeyARN = key1 // dev/app/db, read by web only
	m := verify.Expected(d)
	for _, tt := range []struct {
		name, role, secret string
		checked, allowed   bool
	}{
		{"reader of an encrypted secret", "web", "dev/app/db", true, true},
		{"not a reader", "reporting", "dev/app/db", true, false},
		{"AWS managed key", "web", "dev/app/stripe", false, false},
		{"stage key", "web", "dev/.secretboot/stage-key", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := m.Lookup(tt.role, tt.secret, verify.KMSDecrypt)
			if ok != tt.checked || c.Allowed != tt.allowed {
				t.Errorf("cell present %v allowed %v, want present %v allowed %v", ok, c.Allowed, tt.checked, tt.allowed)
			}
		})
	}
	// 2 roles × (2 secrets + the stage key) × 4 actions, and kms:Decrypt
	// for both roles on the one encrypted secret.
	if len(m.Cells) != 26 {
		t.Errorf("got %d cells, want 26", len(m.Cells))
	}
	if got := verify.ActionsFor(m.Secrets); !cmp.Equal(got, append(append([]string(nil), verify.Actions...), verify.KMSDecrypt)) {
		t.Errorf("ActionsFor = %v, want kms:Decrypt after the four actions", got)
	}
	if got := verify.ActionsFor(verify.Expected(shop()).Secrets); !cmp.Equal(got, verify.Actions) {
		t.Errorf("ActionsFor without a customer key = %v, want the four actions", got)
	}
}

func TestDecryptContext(t *testing.T) {
	got := verify.DecryptContext("arn:aws:secretsmanager:eu-west-1:222222222222:secret:prod/api/key-Ab12Cd")
	want := map[string][]string{
		"kms:EncryptionContext:SecretARN": {"arn:aws:secretsmanager:eu-west-1:222222222222:secret:prod/api/key-Ab12Cd"},
		"kms:ViaService":                  {"secretsmanager.eu-west-1.amazonaws.com"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecryptContext (-want +got):\n%s", diff)
	}
}

// TestDecrypt applies a stage with customer managed keys to the sandbox and
// checks the kms:Decrypt cells online (IAM's simulator with the encryption
// context) and offline (the evaluator), as applied and with a read policy
// broadened by hand.
func TestDecrypt(t *testing.T) {
	d := load(t, "testdata/cmk", "dev")
	env, s, client := applied(t, d)
	ctx := context.Background()

	env.Server.ResetStats()
	on, off := online(t, s, client, d)
	// One simulation per role for the Secrets Manager actions, and one per
	// role and encrypted secret for kms:Decrypt: 2 + 2 × 3.
	if got := env.Server.Stats().Calls["iam.SimulatePrincipalPolicy"]; got != 8 {
		t.Errorf("got %d simulations, want 8", got)
	}
	want := []string{"web dev/app/audit", "web dev/app/db", "worker dev/app/audit", "worker dev/app/queue"}
	for name, m := range map[string]*verify.Matrix{"online": on, "offline": off} {
		allowed, cells := decrypts(m)
		if diff := cmp.Diff(want, allowed); diff != "" {
			t.Errorf("%s: allowed kms:Decrypt (-want +got):\n%s", name, diff)
		}
		// Denials are decided too: web on dev/app/queue and worker on
		// dev/app/db, though their key is one each role may use.
		if cells != 6 {
			t.Errorf("%s: got %d kms:Decrypt cells, want 2 roles × 3 encrypted secrets", name, cells)
		}
		if diffs := verify.Compare(verify.Expected(d), m); len(diffs) != 0 {
			t.Errorf("%s differs from the spec: %v", name, diffs)
		}
	}
	if r := verify.NewResult(d, verify.Simulated, on); !cmp.Equal(r.Actions, verify.ActionsFor(on.Secrets)) || r.Actions[len(r.Actions)-1] != verify.KMSDecrypt {
		t.Errorf("result actions = %v, want kms:Decrypt last", r.Actions)
	}

	var queueARN string
	for _, sec := range on.Secrets {
		if sec.Name == "dev/app/queue" {
			queueARN = sec.ARN
		}
	}
	queueExtra := []string{"extra access: role web may kms:Decrypt on dev/app/queue, which the spec does not grant"}
	tests := []struct {
		name      string
		statement string // added to web's policies by hand
		want      []string
	}{
		{"every key", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`, queueExtra},
		{"the shared key without conditions", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key1 + `"}`, queueExtra},
		{"the shared key through Secrets Manager, for any secret", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key1 + `",
			"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}`, queueExtra},
		{"the shared key for the other role's secret", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key1 + `",
			"Condition":{"StringEquals":{"kms:EncryptionContext:SecretARN":"` + queueARN + `"}}}`, queueExtra},
		{"the other role's secret through another region", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + key1 + `",
			"Condition":{"StringEquals":{"kms:EncryptionContext:SecretARN":"` + queueARN + `","kms:ViaService":"secretsmanager.eu-west-1.amazonaws.com"}}}`, nil},
		{"a key of no secret", `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:000000000000:key/33333333-3333-3333-3333-333333333333"}`, nil},
		{"a deny on the key", `{"Effect":"Deny","Action":"kms:Decrypt","Resource":"` + key2 + `"}`,
			[]string{"missing access: role web may not kms:Decrypt on dev/app/audit, which the spec grants (explicitly denied)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"Version":"2012-10-17","Statement":[` + tt.statement + `]}`
			extra, err := policy.Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
				RoleName: aws.String("shop-dev-web"), PolicyName: aws.String("hand-broadened"), PolicyDocument: aws.String(doc),
			}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("shop-dev-web"), PolicyName: aws.String("hand-broadened")}); err != nil {
					t.Error(err)
				}
			})

			docs, roles, secrets := targets(t, s, d)
			on, err := verify.Online(ctx, client, roles, secrets)
			if err != nil {
				t.Fatal(err)
			}
			var wantOnline []string
			for _, w := range tt.want {
				if strings.HasPrefix(w, "extra") {
					w += " (allowed by hand-broadened)"
				} else {
					w = strings.Replace(w, "(explicitly denied)", "(explicitly denied by hand-broadened)", 1)
				}
				wantOnline = append(wantOnline, w)
			}
			if diff := cmp.Diff(wantOnline, lines(verify.Compare(verify.Expected(d), on))); diff != "" {
				t.Errorf("online differences (-want +got):\n%s", diff)
			}

			// Offline sees secretboot's documents only: put the statement
			// into web's read policy, as an edit by hand would.
			for i := range docs {
				if docs[i].Key != "web" {
					continue
				}
				read := *docs[i].Layout.Inline
				read.Statement = append(append([]policy.Statement(nil), read.Statement...), extra.Statement...)
				docs[i].Layout.Inline = &read
			}
			if diff := cmp.Diff(tt.want, lines(verify.Compare(verify.Expected(d), verify.Offline(docs, secrets)))); diff != "" {
				t.Errorf("offline differences (-want +got):\n%s", diff)
			}
		})
	}
}

func lines(diffs []verify.Difference) []string {
	var out []string
	for _, d := range diffs {
		out = append(out, d.String())
	}
	return out
}

// TestOnlineDecryptSkipsWhatDoesNotExist checks that no kms:Decrypt
// simulation is asked for a role or a secret that does not exist.
func TestOnlineDecryptSkipsWhatDoesNotExist(t *testing.T) {
	sim := &pagedSimulator{}
	roles := []verify.Role{{Key: "web", ARN: "arn:aws:iam::1:role/web", Exists: true}, {Key: "gone", ARN: "arn:aws:iam::1:role/gone"}}
	secrets := []verify.Secret{{Name: "dev/a", ARN: "arn:a", Exists: true}, {Name: "dev/b", ARN: "arn:b", KMSKeyARN: key1}}
	if _, err := verify.Online(context.Background(), sim, roles, secrets); err != nil {
		t.Fatal(err)
	}
	if len(sim.calls) != 4 {
		t.Errorf("got %d calls, want the 4 pages of web's Secrets Manager simulation: %v", len(sim.calls), sim.calls)
	}
}
