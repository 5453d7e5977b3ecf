package sandbox_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const boto3KMSScript = `
import json, os, boto3
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1})
k = boto3.client("kms", endpoint_url=os.environ["SANDBOX_URL"], config=cfg)
sm = boto3.client("secretsmanager", endpoint_url=os.environ["SANDBOX_URL"], config=cfg)
out = {}
key = k.create_key(Description="py")["KeyMetadata"]
out["state"] = key["KeyState"]
k.create_alias(AliasName="alias/py", TargetKeyId=key["KeyId"])
ct = k.encrypt(KeyId="alias/py", Plaintext=b"hello", EncryptionContext={"a": "b"})["CiphertextBlob"]
out["plain"] = k.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "b"})["Plaintext"].decode()
pages = k.get_paginator("list_aliases").paginate(KeyId=key["KeyId"], PaginationConfig={"PageSize": 1})
out["aliases"] = [a["AliasName"] for p in pages for a in p["Aliases"]]
sm.create_secret(Name="py/kms", KmsKeyId=key["Arn"], SecretString="under-cmk")
out["secret"] = sm.get_secret_value(SecretId="py/kms")["SecretString"]
k.disable_key(KeyId=key["Arn"])
try:
    sm.get_secret_value(SecretId="py/kms")
except sm.exceptions.DecryptionFailure as e:
    out["disabled"] = e.response["Error"]["Code"]
try:
    k.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
except k.exceptions.DisabledException as e:
    out["encrypt_disabled"] = e.response["Error"]["Code"]
try:
    k.describe_key(KeyId="alias/none")
except k.exceptions.NotFoundException as e:
    out["missing"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out, sort_keys=True))
`

// TestBoto3KMS: botocore signs KMS requests (service "kms") and decodes the
// sandbox's KMS answers and errors into its modelled exceptions, Secrets
// Manager's DecryptionFailure included.
func TestBoto3KMS(t *testing.T) {
	t.Parallel()
	got := runBoto3(t, boto3KMSScript)
	want := map[string]any{
		"state":            "Enabled",
		"plain":            "hello",
		"aliases":          []any{"alias/py"},
		"secret":           "under-cmk",
		"disabled":         "DecryptionFailure",
		"encrypt_disabled": "DisabledException",
		"missing":          []any{"NotFoundException", 400.0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boto3 results (-want +got):\n%s", diff)
	}
}
