// Package kms emulates the part of AWS Key Management Service that Secrets
// Manager relies on, over the awsJson1_1 protocol (X-Amz-Target
// TrentService.<Operation>): symmetric customer managed keys (CreateKey,
// DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion), aliases (CreateAlias, UpdateAlias, DeleteAlias,
// ListAliases), key policies (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies)
// and the cryptographic operations Encrypt, Decrypt and GenerateDataKey.
//
// Shapes, error codes and validation follow the KMS API reference and the
// SDK's model (aws-sdk-go-v2/service/kms). Ciphertexts are real: AES-256-GCM
// under the key's own material, bound to the encryption context, so a
// ciphertext decrypts only with the key and context it was made with.
//
// Authorization is the caller's (package sandbox): an AuthorizeFunc receives
// the action, the key's ARN, its key policy and the request's condition
// keys, and applies KMS's rule that a key policy must allow the caller
// directly or allow the account (which delegates to IAM policies). Secrets
// Manager uses a key through UseVia, which sets kms:ViaService and the
// kms:EncryptionContext:<key> condition keys as AWS does.
//
// Not emulated: asymmetric and HMAC keys, multi-Region keys, imported key
// material, custom key stores, grants (CreateGrant and grant tokens),
// automatic rotation, tags operations, and the AWS managed keys
// (alias/aws/...), which Secrets Manager's default key stands in for.
package kms
