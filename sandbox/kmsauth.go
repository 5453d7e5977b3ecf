package sandbox

import (
	"errors"
	"fmt"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/kms"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// kmsAuthorizer returns the KMS AuthorizeFunc for caller under enforcement
// (nil, all allowed, without it). Unlike other services, KMS lets no IAM
// policy act on a key unless the key policy allows it (KMS developer guide,
// "Key policies in AWS KMS"): a request is allowed when nothing denies it
// explicitly and either the key policy allows the caller by its own ARN, or
// the key policy allows the account (the default key policy's "Enable IAM
// User Permissions" statement, principal arn:aws:iam::<account>:root) and
// the caller's identity policies allow it too. A permissions boundary
// bounds both. The admin's identity policy allows everything, so the key
// policy alone decides for the admin, as it does for an account's
// administrators on AWS. Actions without a key (CreateKey, the listings)
// are decided by identity policies alone.
func (s *Server) kmsAuthorizer(caller iam.Principal) kms.AuthorizeFunc {
	if !s.opts.EnforceAuth {
		return nil
	}
	if s.foreign(caller) {
		// Across accounts the key policy must allow the caller (its ARN,
		// role or account) and the caller's own IAM policies must allow
		// it too, whichever form the key policy's grant takes (KMS
		// developer guide, "Allowing users in other accounts to use a KMS
		// key").
		return func(action, resource, keyPolicy string, context map[string][]string) error {
			ctx := map[string][]string{"kms:CallerAccount": {caller.Account}}
			for k, v := range context {
				ctx[k] = v
			}
			return s.crossAccountDecision(caller, action, resource, keyPolicy, ctx)
		}
	}
	return func(action, resource, keyPolicy string, context map[string][]string) error {
		set, _ := s.iam.PolicySetFor(caller)
		ctx := withPrincipal(context, caller)
		ctx["kms:CallerAccount"] = []string{caller.Account}
		req := policy.Request{Principal: caller.ARN, Action: action, Resource: resource, Context: ctx}
		identity := policy.Evaluate(policy.PolicySet{Identity: set.Identity, Boundary: set.Boundary, Session: set.Session}, req).Decision
		if keyPolicy == "" {
			if identity == policy.Allowed {
				return nil
			}
			return kmsDenial(caller, action, resource, identity == policy.ExplicitDeny, "no identity-based policy allows the "+action+" action")
		}
		doc, err := policy.Parse([]byte(keyPolicy))
		if err != nil {
			return kmsDenial(caller, action, resource, false, "no resource-based policy allows the "+action+" action")
		}
		if identity == policy.ExplicitDeny || policy.Evaluate(policy.PolicySet{Resource: doc}, req).Decision == policy.ExplicitDeny {
			return kmsDenial(caller, action, resource, true, "")
		}
		root := req
		root.Principal = "arn:aws:iam::" + s.opts.Account + ":root"
		delegated := policy.Evaluate(policy.PolicySet{Resource: doc}, root).Decision == policy.Allowed && identity == policy.Allowed
		direct := policy.Evaluate(policy.PolicySet{Resource: withoutAccount(doc, s.opts.Account), Boundary: set.Boundary, Session: set.Session}, req).Decision == policy.Allowed
		if delegated || direct {
			return nil
		}
		return kmsDenial(caller, action, resource, false, "no resource-based policy allows the "+action+" action")
	}
}

// kmsDenial is KMS's AccessDeniedException message.
func kmsDenial(caller iam.Principal, action, resource string, explicit bool, why string) error {
	if explicit {
		return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny", caller.ARN, action, resource))
	}
	return denial(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because %s", caller.ARN, action, resource, why))
}

// withoutAccount copies a key policy without the principals that name the
// whole account (its ID or root ARN): what remains grants by itself.
func withoutAccount(doc *policy.Document, account string) *policy.Document {
	out := *doc
	out.Statement = make([]policy.Statement, len(doc.Statement))
	for i, st := range doc.Statement {
		if st.Principal != nil && !st.Principal.Wildcard {
			p := policy.Principal{Values: map[string]policy.StringList{}}
			for kind, values := range st.Principal.Values {
				for _, v := range values {
					if kind != "AWS" || (v != account && v != "arn:aws:iam::"+account+":root") {
						p.Values[kind] = append(p.Values[kind], v)
					}
				}
			}
			st.Principal = &p
		}
		out.Statement[i] = st
	}
	return &out
}

// keyUser returns the Secrets Manager KeyFunc for caller: KMS of a region
// acts with the caller's permissions, through Secrets Manager in that
// region. Secrets Manager calls KMS in that region, so the call's
// aws:RequestedRegion is that region, whatever region the caller called.
func (s *Server) keyUser(caller iam.Principal) secretsmanager.KeyFunc {
	az := s.kmsAuthorizer(caller)
	return func(region, op, keyID string, encryptionContext map[string]string) error {
		via := "secretsmanager." + region + ".amazonaws.com"
		_, err := s.kms[region].UseVia(via, op, keyID, encryptionContext, inRegion(az, region))
		if errors.Is(err, kms.ErrDenied) {
			return fmt.Errorf("%w: %v", secretsmanager.ErrKeyDenied, err)
		}
		return err
	}
}
