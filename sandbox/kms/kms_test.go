package kms_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

func newClient(t *testing.T, opts sandbox.Options) *kms.Client {
	t.Helper()
	return kms.NewFromConfig(sandboxtest.Start(t, opts).Config)
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// TestKeyLifecycle drives one key through its states with the SDK: a new
// key encrypts; disabled it refuses (DisabledException); scheduled for
// deletion it refuses (KMSInvalidStateException) and cancelling leaves it
// Disabled, as the KMS API reference describes for each operation.
func TestKeyLifecycle(t *testing.T) {
	c := newClient(t, sandbox.Options{Account: "123456789012", Region: "eu-west-1"})
	ctx := context.Background()
	created, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("for tests")})
	if err != nil {
		t.Fatal(err)
	}
	m := created.KeyMetadata
	arn := "arn:aws:kms:eu-west-1:123456789012:key/" + aws.ToString(m.KeyId)
	if aws.ToString(m.Arn) != arn || !m.Enabled || m.KeyState != types.KeyStateEnabled || m.KeyManager != types.KeyManagerTypeCustomer ||
		m.KeySpec != types.KeySpecSymmetricDefault || m.KeyUsage != types.KeyUsageTypeEncryptDecrypt || aws.ToString(m.AWSAccountId) != "123456789012" {
		t.Errorf("CreateKey metadata = %+v", m)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: m.KeyId}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{aws.ToString(m.KeyId), arn, "alias/app", "arn:aws:kms:eu-west-1:123456789012:alias/app"} {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil || aws.ToString(d.KeyMetadata.Arn) != arn {
			t.Errorf("DescribeKey %s = %v, %v", ref, d, err)
		}
	}
	ec := map[string]string{"SecretARN": "arn:s"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/app"), Plaintext: []byte("plain"), EncryptionContext: ec})
	if err != nil || aws.ToString(enc.KeyId) != arn {
		t.Fatalf("Encrypt = %v, %v", enc, err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil || string(dec.Plaintext) != "plain" || aws.ToString(dec.KeyId) != arn {
		t.Fatalf("Decrypt = %v, %v", dec, err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"SecretARN": "arn:other"}}); code(err) != "InvalidCiphertextException" {
		t.Errorf("Decrypt with another context: %v, want InvalidCiphertextException", err)
	}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256})
	if err != nil || len(dk.Plaintext) != 32 {
		t.Fatalf("GenerateDataKey = %v, %v", dk, err)
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil || !bytes.Equal(dec.Plaintext, dk.Plaintext) {
		t.Errorf("Decrypt of the data key = %v, %v", dec, err)
	}

	encrypt := func() error {
		_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x")})
		return err
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: m.KeyId}); err != nil {
		t.Fatal(err)
	}
	if err := encrypt(); code(err) != "DisabledException" {
		t.Errorf("Encrypt with a disabled key: %v", err)
	}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: m.KeyId}); err != nil || encrypt() != nil {
		t.Errorf("EnableKey: %v", err)
	}
	sched, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: m.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil || aws.ToString(sched.KeyId) != arn || sched.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sched.PendingWindowInDays) != 7 {
		t.Fatalf("ScheduleKeyDeletion = %+v, %v", sched, err)
	}
	if err := encrypt(); code(err) != "KMSInvalidStateException" {
		t.Errorf("Encrypt with a key pending deletion: %v", err)
	}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: m.KeyId}); code(err) != "KMSInvalidStateException" {
		t.Errorf("EnableKey of a key pending deletion: %v", err)
	}
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: m.KeyId}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: m.KeyId}); err != nil || d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.DeletionDate != nil {
		t.Errorf("after CancelKeyDeletion: %+v, %v", d, err)
	}
}

// TestErrors pins the answers to invalid requests: KMS's validation messages
// name the member, and aliases follow their naming rules.
func TestErrors(t *testing.T) {
	c := newClient(t, sandbox.Options{})
	ctx := context.Background()
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := k.KeyMetadata.KeyId
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/taken"), TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, code, msg string
		call            func() error
	}{
		{"window too short", "ValidationException", "1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7", func() error {
			_, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(6)})
			return err
		}},
		{"unknown key", "NotFoundException", "Key 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000' does not exist", func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}},
		{"malformed key ID", "NotFoundException", "Invalid keyId nope", func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("nope")})
			return err
		}},
		{"unknown alias", "NotFoundException", "Alias arn:aws:kms:us-east-1:000000000000:alias/none is not found.", func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
			return err
		}},
		{"alias taken", "AlreadyExistsException", "An alias with the name arn:aws:kms:us-east-1:000000000000:alias/taken already exists", func() error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/taken"), TargetKeyId: id})
			return err
		}},
		{"alias without prefix", "ValidationException", "Invalid identifier", func() error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("app"), TargetKeyId: id})
			return err
		}},
		{"alias of an alias", "ValidationException", "Aliases must refer to keys. Not aliases", func() error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/other"), TargetKeyId: aws.String("alias/taken")})
			return err
		}},
		{"data key size twice", "ValidationException", "Please specify either number of bytes or key spec.", func() error {
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
			return err
		}},
		{"data key too large", "ValidationException", "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024", func() error {
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: id, NumberOfBytes: aws.Int32(1025)})
			return err
		}},
		{"garbage ciphertext", "InvalidCiphertextException", "", func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("not a ciphertext blob at all, really")})
			return err
		}},
		{"cancel a live key", "KMSInvalidStateException", "arn:aws:kms:us-east-1:000000000000:key/" + aws.ToString(id) + " is not pending deletion.", func() error {
			_, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
			return err
		}},
		{"other policy name", "NotFoundException", "No such policy exists", func() error {
			_, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id, PolicyName: aws.String("other")})
			return err
		}},
		{"policy that is not JSON", "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.", func() error {
			_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: aws.String("{")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code || ae.ErrorMessage() != tt.msg {
				t.Errorf("err = %v, want %s: %q", err, tt.code, tt.msg)
			}
		})
	}
}

// TestDefaultPolicyAndAliases: a key created without a policy has the
// default one, which enables IAM policies for the account; ListAliases
// lists a key's aliases and DeleteAlias removes one.
func TestDefaultPolicyAndAliases(t *testing.T) {
	c := newClient(t, sandbox.Options{Account: "111111111111"})
	ctx := context.Background()
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyMetadata.KeyId})
	if err != nil || aws.ToString(p.PolicyName) != "default" || !bytes.Contains([]byte(aws.ToString(p.Policy)), []byte(`"arn:aws:iam::111111111111:root"`)) {
		t.Errorf("GetKeyPolicy = %v, %v", p, err)
	}
	for _, n := range []string{"alias/b", "alias/a"} {
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(n), TargetKeyId: k.KeyMetadata.Arn}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/b")}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: k.KeyMetadata.KeyId})
	if err != nil || len(l.Aliases) != 1 || aws.ToString(l.Aliases[0].AliasName) != "alias/a" ||
		aws.ToString(l.Aliases[0].TargetKeyId) != aws.ToString(k.KeyMetadata.KeyId) || l.Truncated {
		t.Errorf("ListAliases = %+v, %v", l, err)
	}
}

// TestSeedAndPersist: keys named in Options.KMSKeys exist from the start
// with the ID given, and a key with its material survives a restart, so a
// ciphertext made before decrypts after.
func TestSeedAndPersist(t *testing.T) {
	const arn = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	dir := t.TempDir()
	ctx := context.Background()
	start := func(opts sandbox.Options) (*sandbox.Server, *kms.Client) {
		srv, err := sandbox.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		id, secret := srv.AdminCredentials()
		return srv, kms.NewFromConfig(sandboxtest.Config(ts.URL, "eu-west-1", credentials.NewStaticCredentialsProvider(id, secret, "")))
	}
	srv, c := start(sandbox.Options{Account: "222222222222", Region: "eu-west-1", StateDir: dir, KMSKeys: []string{arn}})
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("kept")})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	_, c = start(sandbox.Options{Account: "222222222222", Region: "eu-west-1", StateDir: dir})
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "kept" {
		t.Errorf("Decrypt after a restart = %v, %v", dec, err)
	}
	_, other := start(sandbox.Options{Account: "222222222222", Region: "eu-west-1"})
	if _, err := other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); code(err) != "NotFoundException" {
		t.Errorf("Decrypt in another sandbox: %v, want NotFoundException", err)
	}
	for _, bad := range []string{"arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", "NOT-A-UUID"} {
		if _, err := sandbox.New(sandbox.Options{Account: "222222222222", Region: "eu-west-1", KMSKeys: []string{bad}}); err == nil {
			t.Errorf("seeding %q succeeded", bad)
		}
	}
}
