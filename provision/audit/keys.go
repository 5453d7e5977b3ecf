package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
)

// Decrypt is what reading a secret under a customer managed key also
// needs: Secrets Manager decrypts the value with the caller's permissions.
const Decrypt = "kms:Decrypt"

// KeyPolicyReader is the KMS call audit makes; *kms.Client satisfies it.
type KeyPolicyReader interface {
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// Key is a customer managed key that secrets of the stage are encrypted
// with, and whether audit read its key policy.
type Key struct {
	ARN     string   `json:"arn"`
	Secrets []string `json:"secrets"` // names of the existing secrets under it, sorted
	Read    bool     `json:"read"`
	// NotRead says why the key policy was not read: a key of another
	// account, whose policy GetKeyPolicy does not return across accounts.
	// Its secrets' readers are then decided without it.
	NotRead string `json:"not_read,omitempty"`
}

// keysOf lists the customer managed keys of the existing secrets of refs
// and of their replicas (the spec's kms_key_arn, a replica's in its
// region, named "<name>@<region>"), sorted by ARN.
func keysOf(refs []provision.SecretRef, account string) []Key {
	byARN := map[string]*Key{}
	add := func(arn, secret string) {
		k := byARN[arn]
		if k == nil {
			k = &Key{ARN: arn}
			if a := accountOfPrincipal(arn); a != account {
				k.NotRead = "the key is in account " + a + ", whose key policy GetKeyPolicy does not return to another account"
			}
			byARN[arn] = k
		}
		k.Secrets = append(k.Secrets, secret)
	}
	for _, r := range refs {
		if !r.Exists {
			continue
		}
		if r.KMSKeyARN != "" {
			add(r.KMSKeyARN, r.Name)
		}
		for _, rep := range r.Replicas {
			if rep.KMSKeyARN != "" {
				add(rep.KMSKeyARN, verify.ReplicaName(r.Name, rep.Region))
			}
		}
	}
	out := make([]Key, 0, len(byARN))
	for _, k := range byARN {
		sort.Strings(k.Secrets)
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// readKeyPolicies reads the key policy ("default", the only one) of each
// key of this account, one GetKeyPolicy each, by key ARN. Each call goes
// to the key's region, which the ARN names: a replica's key is in the
// replica's region, where the stage's KMS client does not reach.
func readKeyPolicies(ctx context.Context, kmsc KeyPolicyReader, keys []Key) (map[string]*policy.Document, error) {
	out := map[string]*policy.Document{}
	var errs []error
	for _, k := range keys {
		if k.NotRead != "" {
			continue
		}
		res, err := kmsc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(k.ARN), PolicyName: aws.String("default")}, inRegionOf(k.ARN))
		if err != nil {
			errs = append(errs, fmt.Errorf("reading the key policy of %s: %w", k.ARN, err))
			continue
		}
		doc, err := policy.Parse([]byte(aws.ToString(res.Policy)))
		if err != nil {
			errs = append(errs, fmt.Errorf("the key policy of %s: %w", k.ARN, err))
			continue
		}
		out[k.ARN] = doc
	}
	return out, errors.Join(errs...)
}

// inRegionOf sends one KMS call to the region of arn (the SDK's per-call
// options; endpoint and signature follow the region); a string that is
// not an ARN leaves the client's region.
func inRegionOf(arn string) func(*kms.Options) {
	return func(o *kms.Options) {
		if region := regionOf(arn); region != "" {
			o.Region = region
		}
	}
}

// regionOf is the region an ARN names; "" for a string that is not one.
func regionOf(arn string) string {
	if f := strings.SplitN(arn, ":", 6); len(f) == 6 && f[0] == "arn" {
		return f[3]
	}
	return ""
}

// kmsRequest is kms:Decrypt of key by caller as Secrets Manager asks it
// when caller reads secret: through Secrets Manager in the secret's
// region, with the secret's ARN in the encryption context, from account
// (the caller's). The version ID, also in the context, is not known: a
// condition on it is undecidable.
func kmsRequest(caller, account, key, secret string) policy.Request {
	return policy.Request{Principal: caller, Action: Decrypt, Resource: key, Context: map[string][]string{
		"kms:ViaService":                  {"secretsmanager." + regionOf(secret) + ".amazonaws.com"},
		"kms:EncryptionContext:SecretARN": {secret},
		"kms:CallerAccount":               {account},
		"aws:PrincipalArn":                {caller},
		"aws:PrincipalAccount":            {account},
	}}
}

// decideKey decides whether p, of account, may decrypt secret s under the
// key policy kp as KMS does within one account: nothing denies it
// explicitly, and either the key policy allows p itself (by its ARN, or
// "*"), within p's boundary, or the key policy allows the account and p's
// own IAM policies allow it. As decide does, a decrypt allowed only once
// undecidable conditions are taken in p's favour is conditional. via says
// which way it is allowed.
func decideKey(p *Principal, s Secret, account, key string, kp *policy.Document) (ok, conditional bool, via string) {
	req := kmsRequest(p.ARN, account, key, s.ARN)
	for k, v := range requestContext(p, account, nil) {
		req.Context[k] = v // the caller's type too
	}
	try := func(identity []*policy.Document, boundary, kp *policy.Document) (bool, string) {
		caller := policy.Evaluate(policy.PolicySet{Identity: identity, Boundary: boundary}, req).Decision
		if caller == policy.ExplicitDeny || policy.Evaluate(policy.PolicySet{Resource: kp}, req).Decision == policy.ExplicitDeny {
			return false, ""
		}
		if policy.Evaluate(policy.PolicySet{Resource: accountGrantsOnly(kp), Boundary: boundary}, req).Decision == policy.Allowed {
			return true, "key policy"
		}
		root := req
		root.Principal = "arn:aws:iam::" + account + ":root"
		if caller == policy.Allowed && policy.Evaluate(policy.PolicySet{Resource: kp}, root).Decision == policy.Allowed {
			return true, "IAM policies, which the key policy delegates to"
		}
		return false, ""
	}
	if ok, via := try(p.Identity, p.Boundary, kp); ok {
		return true, false, via
	}
	relaxed := make([]*policy.Document, len(p.Identity))
	for i, d := range p.Identity {
		relaxed[i] = relax(d)
	}
	if ok, via := try(relaxed, relax(p.Boundary), relax(kp)); ok {
		return true, true, via
	}
	return false, false, ""
}

// keyPolicyGrants lists the principals beyond s's readers that the key
// policy kp itself lets decrypt s through Secrets Manager: a principal
// named by ARN (of this account or another), another account (which its
// own IAM policies then delegate to), and anyone ("*" or a NotPrincipal),
// or anyone of this account when a condition such as kms:CallerAccount
// keeps other accounts out. The account's own statement (the default key
// policy's "Enable IAM User Permissions") is not a grant: it delegates to
// the account's IAM policies, which audit evaluates reader by reader.
func keyPolicyGrants(s Secret, account, key string, kp *policy.Document) []Finding {
	var out []Finding
	for i, st := range kp.Statement {
		if st.Effect != policy.Allow {
			continue
		}
		where := fmt.Sprintf("statement %d", i+1)
		if st.Sid != "" {
			where = "statement " + st.Sid
		}
		one := &policy.Document{Version: kp.Version, Statement: []policy.Statement{st}}
		// allows asks whether the statement lets caller of callerAccount
		// decrypt s: strictly, or only once its conditions are relaxed.
		allows := func(caller, callerAccount string) (bool, bool) {
			req := kmsRequest(caller, callerAccount, key, s.ARN)
			if policy.Evaluate(policy.PolicySet{Resource: one}, req).Decision == policy.Allowed {
				return true, false
			}
			return policy.Evaluate(policy.PolicySet{Resource: relax(one)}, req).Decision == policy.Allowed, true
		}
		add := func(who string, conditional bool) {
			detail := key + " (" + where
			if conditional {
				detail += ", when its conditions hold"
			}
			out = append(out, Finding{Kind: KeyPolicy, Secret: s.Name, Principal: who, Detail: detail + ")"})
		}
		if st.NotPrincipal != nil || st.Principal != nil && (st.Principal.Wildcard || contains(st.Principal.Values["AWS"], "*")) {
			if ok, cond := allows("arn:aws:iam::999999999999:role/outsider", "999999999999"); ok && !cond {
				add("anyone (*)", false)
			} else if ok, cond := allows("arn:aws:iam::"+account+":role/insider", account); ok {
				add("anyone in account "+account+" (*)", cond)
			}
			continue
		}
		if st.Principal == nil {
			continue
		}
		for _, v := range st.Principal.Values["AWS"] {
			caller := v
			if isAccount(v) {
				if accountOfPrincipal(v) == account {
					continue // delegation to this account's IAM policies
				}
				caller = "arn:aws:iam::" + accountOfPrincipal(v) + ":root"
			} else if contains(s.Readers, v) {
				continue
			}
			if ok, cond := allows(caller, accountOfPrincipal(v)); ok {
				add(v, cond)
			}
		}
	}
	return out
}
