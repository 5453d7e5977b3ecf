package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// kmsEnv is an enforcing sandbox in account 111111111111 whose admin can
// create roles with inline policies and act as them.
type kmsEnv struct {
	env *sandboxtest.Env
	ctx context.Context
}

// role creates a role with one inline policy (none when doc is "") and
// returns SDK configuration for a session of it.
func (e kmsEnv) role(t *testing.T, name, doc string) aws.Config {
	t.Helper()
	return roleSession(t, e.env, name, doc)
}

func allow(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// readGrant is what secretboot's read policy grants for a CMK-encrypted
// secret: GetSecretValue on it, and kms:Decrypt on the key only through
// Secrets Manager in the region and only for that secret.
func readGrant(secretARN, keyARN, region string) string {
	return allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+secretARN+`"}`,
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+keyARN+`","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.`+region+`.amazonaws.com"},"ArnLike":{"kms:EncryptionContext:SecretARN":"`+secretARN+`"}}}`)
}

func errorOf(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// TestKMSThroughSecretsManager: under enforcement, reading a secret under a
// customer managed key needs kms:Decrypt on the key as well as
// GetSecretValue, through Secrets Manager and for that secret; the key
// policy must allow the account (then IAM decides) or the caller itself.
// A refusal is AccessDeniedException "Access to KMS is not allowed"; a
// disabled key is DecryptionFailure to read and EncryptionFailure to write.
func TestKMSThroughSecretsManager(t *testing.T) {
	const account = "111111111111"
	e := kmsEnv{sandboxtest.Start(t, sandbox.Options{Account: account, EnforceAuth: true}), context.Background()}
	admin := sm.NewFromConfig(e.env.Config)
	keys := kms.NewFromConfig(e.env.Config)
	newKey := func(pol string) string {
		in := &kms.CreateKeyInput{}
		if pol != "" {
			in.Policy, in.BypassPolicyLockoutSafetyCheck = aws.String(pol), true
		}
		k, err := keys.CreateKey(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(k.KeyMetadata.Arn)
	}
	secret := func(name, key string) string {
		out, err := admin.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String(name), KmsKeyId: aws.String(key), SecretString: aws.String("value-of-" + name)})
		if err != nil {
			t.Fatalf("creating %s under %s: %v", name, key, err)
		}
		return aws.ToString(out.ARN)
	}
	roleARN := func(name string) string { return "arn:aws:iam::" + account + ":role/" + name }

	shared := newKey("")
	a, b := secret("app/a", shared), secret("app/b", shared)
	// A key whose policy does not delegate to IAM: only the admin and the
	// role "named" may use it. KMS validates the principals of a key
	// policy, so the role exists first; its identity policy grants no kms:
	// action.
	named := e.role(t, "named", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	own := newKey(allow(
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+account+`:user/sandbox-admin"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"`+roleARN("named")+`"},"Action":"kms:Decrypt","Resource":"*"}`))
	c := secret("app/c", own)

	read := func(cfg aws.Config, id string) error {
		v, err := sm.NewFromConfig(cfg).GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		if err == nil && aws.ToString(v.SecretString) == "" {
			t.Errorf("reading %s: no value", id)
		}
		return err
	}
	const deniedKMS = "AccessDeniedException: Access to KMS is not allowed"
	tests := []struct {
		name   string
		role   string
		policy string
		secret string
		want   string // "" for success, else "code: message"
	}{
		{"secretboot's read grant", "reader", readGrant(a, shared, "us-east-1"), a, ""},
		{"the grant names another secret", "reader-b", readGrant(a, shared, "us-east-1") /* no GetSecretValue on b */, b,
			"AccessDeniedException: User: arn:aws:sts::" + account + ":assumed-role/reader-b/session is not authorized to perform: secretsmanager:GetSecretValue on resource: " + b + " because no identity-based policy allows the secretsmanager:GetSecretValue action"},
		{"decrypt for another secret", "other-secret", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+shared+`","Condition":{"ArnLike":{"kms:EncryptionContext:SecretARN":"`+a+`"}}}`), b, deniedKMS},
		{"GetSecretValue without kms:Decrypt", "no-kms", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + a + `"}`), a, deniedKMS},
		{"kms:Decrypt via another region", "wrong-region", readGrant(a, shared, "eu-west-1"), a, deniedKMS},
		{"kms:Decrypt in the secret's region", "requested-region", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+a+`"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+shared+`","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`), a, ""},
		{"kms:Decrypt in another region only", "requested-elsewhere", allow(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+a+`"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+shared+`","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}`), a, deniedKMS},
		{"key policy without the account", "iam-only", readGrant(c, own, "us-east-1"), c, deniedKMS},
		{"key policy names the role", "named", "", c, ""},
		{"explicit deny of kms:Decrypt", "denied", allow(`{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","kms:Decrypt"],"Resource":"*"}`,
			`{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}`), a, deniedKMS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := named
			if tt.role != "named" {
				cfg = e.role(t, tt.role, tt.policy)
			}
			err := read(cfg, tt.secret)
			code, msg := errorOf(err)
			got := ""
			if err != nil {
				got = code + ": " + msg
			}
			if got != tt.want {
				t.Errorf("GetSecretValue = %q (%v), want %q", got, err, tt.want)
			}
		})
	}

	// The reader's grant holds only through Secrets Manager: calling KMS
	// itself with a ciphertext of the key is refused.
	reader := e.role(t, "direct", readGrant(a, shared, "us-east-1"))
	enc, err := keys.Encrypt(e.ctx, &kms.EncryptInput{KeyId: aws.String(shared), Plaintext: []byte("x"), EncryptionContext: map[string]string{"SecretARN": a}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = kms.NewFromConfig(reader).Decrypt(e.ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"SecretARN": a}})
	if code, msg := errorOf(err); code != "AccessDeniedException" || !strings.Contains(msg, "is not authorized to perform: kms:Decrypt on resource: "+shared) {
		t.Errorf("Decrypt called directly = %v, want AccessDeniedException", err)
	}

	// A disabled key: reads are DecryptionFailure, writes EncryptionFailure,
	// for the admin too.
	if _, err := keys.DisableKey(e.ctx, &kms.DisableKeyInput{KeyId: aws.String(shared)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := errorOf(read(e.env.Config, a)); code != "DecryptionFailure" {
		t.Errorf("reading under a disabled key: %s, want DecryptionFailure", code)
	}
	_, err = admin.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String(a), SecretString: aws.String("new")})
	if code, _ := errorOf(err); code != "EncryptionFailure" {
		t.Errorf("writing under a disabled key: %v, want EncryptionFailure", err)
	}
	if d, err := admin.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(a)}); err != nil || len(d.VersionIdsToStages) != 1 {
		t.Errorf("the refused write left a version: %+v, %v", d, err)
	}

	// The policy lockout safety check: the admin may not give the shared
	// key a policy that would lock it out.
	_, err = keys.PutKeyPolicy(e.ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(shared),
		Policy: aws.String(allow(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN("reader") + `"},"Action":"kms:*","Resource":"*"}`))})
	if code, _ := errorOf(err); code != "MalformedPolicyDocumentException" {
		t.Errorf("PutKeyPolicy locking the caller out: %v, want MalformedPolicyDocumentException", err)
	}
}

// TestKeyChangeReencrypts: when UpdateSecret changes a secret's key,
// Secrets Manager re-encrypts the labelled versions under the new key and
// keeps them under the old one, so a reader of either key still reads
// AWSCURRENT; a value written afterwards is under the new key only
// ("Change the encryption key for an AWS Secrets Manager secret").
func TestKeyChangeReencrypts(t *testing.T) {
	e := kmsEnv{sandboxtest.Start(t, sandbox.Options{EnforceAuth: true}), context.Background()}
	admin := sm.NewFromConfig(e.env.Config)
	keys := kms.NewFromConfig(e.env.Config)
	var k [2]string
	for i := range k {
		out, err := keys.CreateKey(e.ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		k[i] = aws.ToString(out.KeyMetadata.Arn)
	}
	s, err := admin.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/db"), KmsKeyId: aws.String(k[0]), SecretString: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(s.ARN)
	if _, err := admin.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: s.ARN, KmsKeyId: aws.String(k[1])}); err != nil {
		t.Fatal(err)
	}
	readers := [2]*sm.Client{
		sm.NewFromConfig(e.role(t, "old-key", readGrant(arn, k[0], "us-east-1"))),
		sm.NewFromConfig(e.role(t, "new-key", readGrant(arn, k[1], "us-east-1"))),
	}
	for i, r := range readers {
		if v, err := r.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: s.ARN}); err != nil || aws.ToString(v.SecretString) != "one" {
			t.Errorf("reader of key %d after the key change: %v", i, err)
		}
	}
	if _, err := admin.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: s.ARN, SecretString: aws.String("two")}); err != nil {
		t.Fatal(err)
	}
	if _, err := readers[1].GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: s.ARN}); err != nil {
		t.Errorf("reader of the new key, new value: %v", err)
	}
	_, err = readers[0].GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: s.ARN})
	if code, msg := errorOf(err); code != "AccessDeniedException" || msg != "Access to KMS is not allowed" {
		t.Errorf("reader of the old key, new value: %v, want AccessDeniedException", err)
	}
}
