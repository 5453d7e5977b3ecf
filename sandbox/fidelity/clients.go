package fidelity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients returns the Callers of every service of the corpus, through SDK
// clients built from cfg.
func Clients(cfg aws.Config) Callers {
	return Callers{
		"secretsmanager": SecretsManager(cfg),
		"kms":            KMS(cfg),
		"iam":            IAM(cfg),
		"sts":            STS(cfg),
	}
}

type plainOp func(ctx context.Context, input []byte) (any, error)

// plain adapts a client method of any service, decoding the input strictly
// as smCall does.
func plain[I, O, Opt any](f func(context.Context, *I, ...func(*Opt)) (*O, error)) plainOp {
	return func(ctx context.Context, input []byte) (any, error) {
		in := new(I)
		dec := json.NewDecoder(bytes.NewReader(input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			return nil, fmt.Errorf("corpus input: %w", err)
		}
		return f(ctx, in)
	}
}

func plainCaller(service string, ops map[string]plainOp) Caller {
	return func(ctx context.Context, op string, input []byte, raw bool) ([]byte, error) {
		f, ok := ops[op]
		if !ok {
			return nil, fmt.Errorf("corpus: unknown %s operation %s", service, op)
		}
		if raw {
			return nil, fmt.Errorf("corpus: raw requests are for Secrets Manager's ClientRequestToken only, not %s", service)
		}
		out, err := f(ctx, input)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// KMS returns a Caller for the KMS corpus.
func KMS(cfg aws.Config) Caller {
	c := kms.NewFromConfig(cfg)
	return plainCaller("KMS", map[string]plainOp{
		"CancelKeyDeletion":   plain(c.CancelKeyDeletion),
		"CreateAlias":         plain(c.CreateAlias),
		"CreateKey":           plain(c.CreateKey),
		"Decrypt":             plain(c.Decrypt),
		"DeleteAlias":         plain(c.DeleteAlias),
		"DescribeKey":         plain(c.DescribeKey),
		"DisableKey":          plain(c.DisableKey),
		"EnableKey":           plain(c.EnableKey),
		"Encrypt":             plain(c.Encrypt),
		"GenerateDataKey":     plain(c.GenerateDataKey),
		"GetKeyPolicy":        plain(c.GetKeyPolicy),
		"ListAliases":         plain(c.ListAliases),
		"ListKeyPolicies":     plain(c.ListKeyPolicies),
		"ListKeys":            plain(c.ListKeys),
		"PutKeyPolicy":        plain(c.PutKeyPolicy),
		"ScheduleKeyDeletion": plain(c.ScheduleKeyDeletion),
		"UpdateAlias":         plain(c.UpdateAlias),
	})
}

// IAM returns a Caller for the IAM corpus.
func IAM(cfg aws.Config) Caller {
	c := iam.NewFromConfig(cfg)
	return plainCaller("IAM", map[string]plainOp{
		"AddRoleToInstanceProfile":      plain(c.AddRoleToInstanceProfile),
		"AttachRolePolicy":              plain(c.AttachRolePolicy),
		"CreateInstanceProfile":         plain(c.CreateInstanceProfile),
		"CreatePolicy":                  plain(c.CreatePolicy),
		"CreatePolicyVersion":           plain(c.CreatePolicyVersion),
		"CreateRole":                    plain(c.CreateRole),
		"DeleteInstanceProfile":         plain(c.DeleteInstanceProfile),
		"DeletePolicy":                  plain(c.DeletePolicy),
		"DeletePolicyVersion":           plain(c.DeletePolicyVersion),
		"DeleteRole":                    plain(c.DeleteRole),
		"DeleteRolePermissionsBoundary": plain(c.DeleteRolePermissionsBoundary),
		"DeleteRolePolicy":              plain(c.DeleteRolePolicy),
		"DetachRolePolicy":              plain(c.DetachRolePolicy),
		"GetInstanceProfile":            plain(c.GetInstanceProfile),
		"GetPolicy":                     plain(c.GetPolicy),
		"GetPolicyVersion":              plain(c.GetPolicyVersion),
		"GetRole":                       plain(c.GetRole),
		"GetRolePolicy":                 plain(c.GetRolePolicy),
		"ListAttachedRolePolicies":      plain(c.ListAttachedRolePolicies),
		"ListInstanceProfilesForRole":   plain(c.ListInstanceProfilesForRole),
		"ListPolicyVersions":            plain(c.ListPolicyVersions),
		"ListRolePolicies":              plain(c.ListRolePolicies),
		"ListRoleTags":                  plain(c.ListRoleTags),
		"ListRoles":                     plain(c.ListRoles),
		"PutRolePermissionsBoundary":    plain(c.PutRolePermissionsBoundary),
		"PutRolePolicy":                 plain(c.PutRolePolicy),
		"RemoveRoleFromInstanceProfile": plain(c.RemoveRoleFromInstanceProfile),
		"TagRole":                       plain(c.TagRole),
		"UntagRole":                     plain(c.UntagRole),
		"UpdateAssumeRolePolicy":        plain(c.UpdateAssumeRolePolicy),
		"UpdateRole":                    plain(c.UpdateRole),
	})
}

// STS returns a Caller for the STS corpus.
func STS(cfg aws.Config) Caller {
	c := sts.NewFromConfig(cfg)
	return plainCaller("STS", map[string]plainOp{
		"AssumeRole":        plain(c.AssumeRole),
		"GetCallerIdentity": plain(c.GetCallerIdentity),
	})
}
