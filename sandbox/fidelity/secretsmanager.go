package fidelity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type smOp func(ctx context.Context, input []byte, optFns ...func(*sm.Options)) (any, error)

// smCall adapts a client method: it decodes the input into the SDK's input
// type, refusing members the type does not have, so that a typo in the
// corpus cannot pass silently.
func smCall[I, O any](f func(context.Context, *I, ...func(*sm.Options)) (*O, error)) smOp {
	return func(ctx context.Context, input []byte, optFns ...func(*sm.Options)) (any, error) {
		in := new(I)
		dec := json.NewDecoder(bytes.NewReader(input))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			return nil, fmt.Errorf("corpus input: %w", err)
		}
		return f(ctx, in, optFns...)
	}
}

// SecretsManager returns a Caller for the Secrets Manager corpus that calls
// through an SDK client built from cfg.
func SecretsManager(cfg aws.Config) Caller {
	c := sm.NewFromConfig(cfg)
	ops := map[string]smOp{
		"BatchGetSecretValue":          smCall(c.BatchGetSecretValue),
		"CancelRotateSecret":           smCall(c.CancelRotateSecret),
		"CreateSecret":                 smCall(c.CreateSecret),
		"DeleteResourcePolicy":         smCall(c.DeleteResourcePolicy),
		"DeleteSecret":                 smCall(c.DeleteSecret),
		"DescribeSecret":               smCall(c.DescribeSecret),
		"GetRandomPassword":            smCall(c.GetRandomPassword),
		"GetResourcePolicy":            smCall(c.GetResourcePolicy),
		"GetSecretValue":               smCall(c.GetSecretValue),
		"ListSecretVersionIds":         smCall(c.ListSecretVersionIds),
		"ListSecrets":                  smCall(c.ListSecrets),
		"PutResourcePolicy":            smCall(c.PutResourcePolicy),
		"PutSecretValue":               smCall(c.PutSecretValue),
		"RemoveRegionsFromReplication": smCall(c.RemoveRegionsFromReplication),
		"ReplicateSecretToRegions":     smCall(c.ReplicateSecretToRegions),
		"RestoreSecret":                smCall(c.RestoreSecret),
		"RotateSecret":                 smCall(c.RotateSecret),
		"StopReplicationToReplica":     smCall(c.StopReplicationToReplica),
		"TagResource":                  smCall(c.TagResource),
		"UntagResource":                smCall(c.UntagResource),
		"UpdateSecret":                 smCall(c.UpdateSecret),
		"UpdateSecretVersionStage":     smCall(c.UpdateSecretVersionStage),
		"ValidateResourcePolicy":       smCall(c.ValidateResourcePolicy),
	}
	return func(ctx context.Context, op string, input []byte, raw bool) ([]byte, error) {
		f, ok := ops[op]
		if !ok {
			return nil, fmt.Errorf("corpus: unknown Secrets Manager operation %s", op)
		}
		var optFns []func(*sm.Options)
		if region, ok := ctx.Value(regionKey{}).(string); ok {
			optFns = append(optFns, func(o *sm.Options) { o.Region = region })
		}
		if raw {
			optFns = append(optFns, func(o *sm.Options) {
				o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
					return s.Serialize.Add(stripToken, middleware.After)
				})
			})
		}
		out, err := f(ctx, input, optFns...)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// regionKey is the context key of a step's region (Step.Region).
type regionKey struct{}

// stripToken removes ClientRequestToken from the serialised JSON body: the
// SDK always fills it in, and only a hand-made request arrives without one.
var stripToken = middleware.SerializeMiddlewareFunc("fidelityStripToken", func(
	ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler,
) (middleware.SerializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return next.HandleSerialize(ctx, in)
	}
	if r := req.GetStream(); r != nil {
		b, err := io.ReadAll(r)
		if err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(b, &body); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		delete(body, "ClientRequestToken")
		if b, err = json.Marshal(body); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		if req, err = req.SetStream(bytes.NewReader(b)); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		in.Request = req
	}
	return next.HandleSerialize(ctx, in)
})
