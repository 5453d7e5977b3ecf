package provision_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// customerKeys lists the customer managed keys a stage names, for
// sandbox.Options.KMSKeys: the sandbox encrypts through KMS, so a key the
// spec names must exist there, as it must on AWS.
func customerKeys(d *spec.Desired) []string {
	var keys []string
	for _, s := range d.Secrets {
		if s.KMSKeyARN != "" && !slices.Contains(keys, s.KMSKeyARN) {
			keys = append(keys, s.KMSKeyARN)
		}
	}
	return keys
}

// TestCustomerKeyDisabled: with a secret's customer managed key disabled,
// plan still works (it reads metadata and version tokens, not values), and
// applying a new value fails on that secret alone with the error KMS
// causes, naming the key's state and never the payload; enabling the key
// again lets the same plan's next apply converge.
func TestCustomerKeyDisabled(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:" + sandboxAccount + ":key/5e2f0c1a-7b3d-4c9e-8a6f-0d1e2f3a4b5c"
	d := testDesired(uniqueStage("kms"), sandboxAccount, canary)
	d.Secrets[1].KMSKeyARN = key
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount, KMSKeys: customerKeys(d)})
	s := sandboxBackend(env).mustConnect(t)
	converge(t, s, d, provision.DiffOptions{})

	keys := kms.NewFromConfig(env.Config)
	if _, err := keys.DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	d2 := testDesired(d.Stage, sandboxAccount, canary+"-rotated")
	d2.Secrets[1].KMSKeyARN = key
	p := plan(t, s, d2, provision.DiffOptions{})
	if p.Empty() {
		t.Fatal("a new payload planned no change")
	}
	_, err := provision.Apply(context.Background(), s, p, d2, provision.ApplyOptions{PropagationTimeout: 10e9})
	if err == nil {
		t.Fatal("apply under a disabled key succeeded")
	}
	noCanary(t, "apply error", err.Error())
	if msg := err.Error(); !strings.Contains(msg, "EncryptionFailure") || !strings.Contains(msg, d2.Secrets[1].Name) {
		t.Errorf("apply error does not name EncryptionFailure and the secret: %v", err)
	}

	if _, err := keys.EnableKey(context.Background(), &kms.EnableKeyInput{KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	converge(t, s, d2, provision.DiffOptions{})
}
