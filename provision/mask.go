package provision

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"
)

// The session tells ConnectOptions.Mask every payload the engine holds that
// did not come from the spec (the spec's evaluation reports those): the
// values it generates, as soon as they exist, and every value a Secrets
// Manager call writes or reads, as the call passes through the client. The
// caller's masker is the last line of defence on its output streams.

// maskSecret hands mask a copy of a secret value; a no-op without Mask.
func (s *Session) maskSecret(b []byte) {
	if s.mask != nil && len(b) > 0 {
		s.mask(append([]byte(nil), b...))
	}
}

// maskKey hands mask the stage key, as maskBinary does; a no-op without
// Mask.
func (s *Session) maskKey(raw []byte) {
	if s.mask != nil {
		maskBinary(s.mask, raw)
	}
}

// maskBinary hands mask a binary value in both forms it takes: its bytes,
// and the base64 text that stands for them in Secrets Manager's JSON (the
// form the stage key travels and is stored in).
func maskBinary(mask func([]byte), b []byte) {
	if len(b) == 0 {
		return
	}
	mask(append([]byte(nil), b...))
	mask([]byte(base64.StdEncoding.EncodeToString(b)))
}

// maskString hands mask a string value and, when it is JSON, each string
// in it: a secret object's fields are payloads of their own.
func maskString(mask func([]byte), s string) {
	if s == "" {
		return
	}
	mask([]byte(s))
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		maskLeaves(mask, v)
	}
}

func maskLeaves(mask func([]byte), v any) {
	switch v := v.(type) {
	case string:
		if v != "" {
			mask([]byte(v))
		}
	case map[string]any:
		for _, f := range v {
			maskLeaves(mask, f)
		}
	case []any:
		for _, e := range v {
			maskLeaves(mask, e)
		}
	}
}

func maskValue(mask func([]byte), str *string, bin []byte) {
	if str != nil {
		maskString(mask, *str)
	}
	maskBinary(mask, bin)
}

// addPayloadMask hands mask the payloads of every Secrets Manager call:
// the values a request writes before it is sent (an endpoint may echo
// them), and the values an answer reads as it arrives.
func addPayloadMask(mask func([]byte)) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("secretboot.PayloadMask",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch p := in.Parameters.(type) {
				case *secretsmanager.CreateSecretInput:
					maskValue(mask, p.SecretString, p.SecretBinary)
				case *secretsmanager.PutSecretValueInput:
					maskValue(mask, p.SecretString, p.SecretBinary)
				case *secretsmanager.UpdateSecretInput:
					maskValue(mask, p.SecretString, p.SecretBinary)
				}
				out, md, err := next.HandleInitialize(ctx, in)
				switch r := out.Result.(type) {
				case *secretsmanager.GetSecretValueOutput:
					maskValue(mask, r.SecretString, r.SecretBinary)
				case *secretsmanager.BatchGetSecretValueOutput:
					for _, v := range r.SecretValues {
						maskValue(mask, v.SecretString, v.SecretBinary)
					}
				case *secretsmanager.GetRandomPasswordOutput:
					maskValue(mask, r.RandomPassword, nil)
				}
				return out, md, err
			}), middleware.After)
	}
}
