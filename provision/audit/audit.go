package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/provision/verify"
	"github.com/secretboot/secretboot/spec"
)

// GetSecretValue is the read audit decides: every way of reading a
// secret's value (BatchGetSecretValue included) needs it on the secret.
const GetSecretValue = "secretsmanager:GetSecretValue"

// PolicyReader is the Secrets Manager call audit makes;
// *secretsmanager.Client satisfies it.
type PolicyReader interface {
	GetResourcePolicy(context.Context, *secretsmanager.GetResourcePolicyInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error)
}

// NotSeen is what audit cannot read, stated in every result.
var NotSeen = []string{
	"service and resource control policies (AWS Organizations SCPs and RCPs): they can only narrow access, so a reader listed here may in fact be denied",
	"session policies and the tags of sessions: a session may be narrower than its role",
	"IAM Identity Center permission sets, except as the roles they create in this account",
	"KMS grants: a principal that a key policy and its IAM policies do not let decrypt is not listed as a reader of the key's secrets, though a grant could let it decrypt",
	"key policies of keys in other accounts (keys[].not_read): the readers of their secrets are decided without them",
	"a key changed outside the spec: each secret and replica is decided under the key the spec gives it (kms_key_arn, else the AWS managed key), not one set since; plan reports the difference",
	"principals of other accounts beyond those a resource or trust policy names",
}

// Secret is one secret of the stage and its resource policy.
type Secret struct {
	Key            string   `json:"key,omitempty"` // label in the spec; "" for the stage key secret
	Name           string   `json:"name"`
	ARN            string   `json:"arn,omitempty"`
	Exists         bool     `json:"exists"`
	ResourcePolicy bool     `json:"resource_policy"`
	Readers        []string `json:"readers"` // principal ARNs the spec lets read it: its readers and the deployer
}

// Access is one principal of the account that may read one secret.
type Access struct {
	Secret    string `json:"secret"`    // secret name
	Principal string `json:"principal"` // principal ARN
	Type      string `json:"type"`      // "role" or "user"
	Name      string `json:"name"`
	// Expected says the spec lets it read: a reader of the secret, or the
	// stage's deployer.
	Expected bool `json:"expected"`
	// Conditional says the read is allowed only if conditions hold that
	// audit cannot decide.
	Conditional bool `json:"conditional,omitempty"`
	// Sources name the policies whose statements allow it: "inline NAME",
	// "managed NAME", "group G: …", "resource policy".
	Sources []string `json:"sources"`
	// Decrypt says what lets it decrypt a secret under a customer managed
	// key whose key policy audit read: "key policy" (the key policy names
	// it, or anyone) or "IAM policies, which the key policy delegates to";
	// omitted otherwise.
	Decrypt string `json:"decrypt,omitempty"`
}

// FindingKind says what kind of access beyond the spec a finding is.
type FindingKind string

// Kinds of findings.
const (
	// Reader: a principal of the account the spec does not name may read.
	Reader FindingKind = "reader"
	// ConditionalReader: such a principal may read when conditions hold.
	ConditionalReader FindingKind = "conditional-reader"
	// External: the secret's resource policy lets a principal of another
	// account, or anyone, read.
	External FindingKind = "external"
	// Trust: a role that may read is assumable from another account or by
	// anyone, an exposure path even for a reader the spec names.
	Trust FindingKind = "trust"
	// Unevaluated: a principal holds a policy audit could not evaluate.
	Unevaluated FindingKind = "unevaluated"
	// KeyPolicy: the key policy of the secret's customer managed key lets
	// a principal beyond the secret's readers decrypt it (keyPolicyGrants).
	KeyPolicy FindingKind = "key-policy"
)

// Finding is one way a secret can be read beyond what the spec says.
type Finding struct {
	Kind      FindingKind `json:"kind"`
	Secret    string      `json:"secret,omitempty"` // "" for an unevaluated principal
	Principal string      `json:"principal"`        // ARN, account, or "*"
	Detail    string      `json:"detail"`
}

// String describes the finding in one line.
func (f Finding) String() string {
	switch f.Kind {
	case Reader:
		return fmt.Sprintf("%s may read %s, which the spec does not grant (%s)", f.Principal, f.Secret, f.Detail)
	case ConditionalReader:
		return fmt.Sprintf("%s may read %s when conditions hold, which the spec does not grant (%s)", f.Principal, f.Secret, f.Detail)
	case External:
		return fmt.Sprintf("the resource policy of %s lets %s read it (%s)", f.Secret, f.Principal, f.Detail)
	case Trust:
		return fmt.Sprintf("%s reads %s and %s", f.Principal, f.Secret, f.Detail)
	case KeyPolicy:
		return fmt.Sprintf("the key policy of %s lets %s decrypt %s, which the spec does not grant", f.Detail, f.Principal, f.Secret)
	}
	return fmt.Sprintf("%s was not evaluated: %s", f.Principal, f.Detail)
}

// Result is what `secretboot audit` reports, as JSON with -json.
type Result struct {
	Project  string `json:"project"`
	Stage    string `json:"stage"`
	Account  string `json:"account"`
	Action   string `json:"action"`
	Users    int    `json:"users"`
	Roles    int    `json:"roles"`
	Groups   int    `json:"groups"`
	Policies int    `json:"managed_policies"`
	// Secrets lists the stage's secrets by name, the stage key last.
	Secrets []Secret `json:"secrets"`
	// Keys are the customer managed keys of the existing secrets, by ARN.
	Keys []Key `json:"keys"`
	// Access lists every principal that may read a secret, sorted by
	// secret, then principal.
	Access   []Access  `json:"access"`
	Findings []Finding `json:"findings"`
	NotSeen  []string  `json:"not_seen"`
	OK       bool      `json:"ok"`
}

// Run reads what o's observation (which gives the secrets' exact ARNs and
// tags) did not: the account (ReadAccount), the resource policy of every
// existing secret of the stage that o lacks (one GetResourcePolicy each)
// and the key policy of every customer managed key of this account that
// an existing secret or one of its replicas uses (one GetKeyPolicy each,
// in the key's region); then it analyzes them. That is ⌈E/1000⌉ +
// (existing secrets, stage key included, whose resource policy o lacks) +
// (keys) calls, E being the users, groups, roles and managed policies in
// use, or only the users, groups and AWS managed policies in use when o
// holds the account-wide read (account_iam_read).
func Run(ctx context.Context, d *spec.Desired, o *provision.Observed, iamc IAMReader, smc PolicyReader, kmsc KeyPolicyReader) (*Result, error) {
	docs, err := provision.RoleDocumentsOf(d, o)
	if err != nil {
		return nil, err
	}
	refs := provision.SecretRefs(d, o)
	a, err := ReadAccount(ctx, iamc, o)
	if err != nil {
		return nil, err
	}
	resource, err := readResourcePolicies(ctx, smc, refs, o.ResourcePolicies)
	if err != nil {
		return nil, err
	}
	keys, err := readKeyPolicies(ctx, kmsc, keysOf(refs, o.Account))
	if err != nil {
		return nil, err
	}
	tags := map[string]map[string]string{}
	for _, s := range o.Secrets {
		tags[s.ARN] = s.Tags
	}
	if o.StageKey != nil {
		tags[o.StageKey.ARN] = o.StageKey.Tags
	}
	return Analyze(d, o.Account, docs, refs, a, resource, tags, keys), nil
}

// parallelism bounds concurrent GetResourcePolicy calls, which share
// Secrets Manager's 50-a-second quota of resource-policy calls.
const parallelism = 8

// readResourcePolicies returns the resource policy of every existing
// secret of refs, by ARN; a secret without one has no entry. Those
// observed holds (by name, as Observed.ResourcePolicies) are not read
// again.
func readResourcePolicies(ctx context.Context, smc PolicyReader, refs []provision.SecretRef, observed map[string]string) (map[string]*policy.Document, error) {
	docs := make([]*policy.Document, len(refs))
	errs := make([]error, len(refs))
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, r := range refs {
		if !r.Exists {
			continue
		}
		if text, ok := observed[r.Name]; ok {
			docs[i], errs[i] = parseResourcePolicy(r, text)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			docs[i], errs[i] = readResourcePolicy(ctx, smc, r)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := map[string]*policy.Document{}
	for i, d := range docs {
		if d != nil {
			out[refs[i].ARN] = d
		}
	}
	return out, nil
}

// readResourcePolicy reads one secret's resource policy; nil when it has
// none, or when it was deleted since it was observed (nothing to read).
func readResourcePolicy(ctx context.Context, smc PolicyReader, r provision.SecretRef) (*policy.Document, error) {
	out, err := smc.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(r.ARN)})
	var rnf *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &rnf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the resource policy of secret %s: %w", r.Name, err)
	}
	return parseResourcePolicy(r, aws.ToString(out.ResourcePolicy))
}

// parseResourcePolicy parses r's resource policy as GetResourcePolicy
// returned it; nil when it has none.
func parseResourcePolicy(r provision.SecretRef, text string) (*policy.Document, error) {
	if text == "" {
		return nil, nil
	}
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("the resource policy of secret %s: %w", r.Name, err)
	}
	return doc, nil
}

// Analyze decides who in account a may read each existing secret of refs,
// with resource holding the secrets' resource policies and tags their
// tags (both by ARN) and keys the key policies of their customer managed
// keys (by key ARN; a key without one is decided without it), and
// compares that with what d and the roles' docs intend.
func Analyze(d *spec.Desired, account string, docs []provision.RoleDocuments, refs []provision.SecretRef, a *Account, resource map[string]*policy.Document, tags map[string]map[string]string, keys map[string]*policy.Document) *Result {
	users, roles := a.Counts()
	r := &Result{
		Project: d.Project, Stage: d.Stage, Account: account, Action: GetSecretValue,
		Users: users, Roles: roles, Groups: a.Groups, Policies: a.Policies,
		Keys: keysOf(refs, account), Access: []Access{}, Findings: []Finding{}, NotSeen: NotSeen,
	}
	keyOf := map[string]string{} // secret name → its key, when its key policy was read
	for i, k := range r.Keys {
		r.Keys[i].Read = keys[k.ARN] != nil
		if r.Keys[i].Read {
			for _, name := range k.Secrets {
				keyOf[name] = k.ARN
			}
		}
	}
	expected := expectedReaders(d, docs)
	resource, tags = maps.Clone(resource), maps.Clone(tags)
	for _, ref := range refs {
		s := Secret{Key: ref.Key, Name: ref.Name, Exists: ref.Exists, ResourcePolicy: resource[ref.ARN] != nil, Readers: expected[ref.Name]}
		if s.Readers == nil {
			s.Readers = []string{}
		}
		if ref.Exists {
			s.ARN = ref.ARN
		}
		r.Secrets = append(r.Secrets, s)
		// Each replica is a secret of its own ARN, with the primary's
		// resource policy and tags, which Secrets Manager replicates.
		for _, rep := range ref.Replicas {
			c := s
			c.Name, c.Readers = verify.ReplicaName(ref.Name, rep.Region), expected[verify.ReplicaName(ref.Name, rep.Region)]
			if c.Readers == nil {
				c.Readers = []string{}
			}
			if ref.Exists {
				c.ARN = provision.ReplicaARN(ref.ARN, rep.Region)
				if doc := resource[ref.ARN]; doc != nil {
					resource[c.ARN] = doc
				}
				tags[c.ARN] = tags[ref.ARN]
			}
			r.Secrets = append(r.Secrets, c)
		}
	}
	for _, p := range a.Principals {
		if len(p.Unreadable) > 0 {
			r.Findings = append(r.Findings, Finding{Kind: Unevaluated, Principal: p.ARN, Detail: strings.Join(p.Unreadable, "; ")})
		}
	}
	for _, s := range r.Secrets {
		if !s.Exists {
			continue
		}
		rp := resource[s.ARN]
		r.Findings = append(r.Findings, externalReaders(s, account, rp)...)
		key := keyOf[s.Name]
		if key != "" {
			r.Findings = append(r.Findings, keyPolicyGrants(s, account, key, keys[key])...)
		}
		granting := accountGrantsOnly(rp)
		for _, p := range a.Principals {
			acc, ok := decide(p, s, account, granting, tags[s.ARN])
			if !ok {
				continue
			}
			if key != "" {
				// Reading the value is decrypting it too.
				decrypts, conditional, via := decideKey(p, s, account, key, keys[key])
				if !decrypts {
					continue
				}
				acc.Conditional = acc.Conditional || conditional
				acc.Decrypt = via
			}
			acc.Expected = contains(s.Readers, p.ARN)
			r.Access = append(r.Access, acc)
			switch {
			case !acc.Expected && acc.Conditional:
				r.Findings = append(r.Findings, Finding{Kind: ConditionalReader, Secret: s.Name, Principal: p.ARN, Detail: strings.Join(acc.Sources, ", ")})
			case !acc.Expected:
				r.Findings = append(r.Findings, Finding{Kind: Reader, Secret: s.Name, Principal: p.ARN, Detail: strings.Join(acc.Sources, ", ")})
			}
			if out := outsiders(p.Trust, account); len(out) > 0 {
				r.Findings = append(r.Findings, Finding{Kind: Trust, Secret: s.Name, Principal: p.ARN,
					Detail: "its trust policy lets " + strings.Join(out, ", ") + " assume it"})
			}
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		x, y := r.Findings[i], r.Findings[j]
		if x.Secret != y.Secret {
			return x.Secret < y.Secret
		}
		if x.Principal != y.Principal {
			return x.Principal < y.Principal
		}
		return x.Kind < y.Kind
	})
	r.OK = len(r.Findings) == 0
	return r
}

// expectedReaders maps each secret name to the ARNs of the principals the
// spec lets read it (sorted): the roles verify.Expected allows
// GetSecretValue, at the ARNs docs give them (a cross-account reader, which
// has no documents, at the spec's), and the stage's deployer.
func expectedReaders(d *spec.Desired, docs []provision.RoleDocuments) map[string][]string {
	expected := verify.Expected(d)
	arnOf := map[string]string{}
	for _, r := range expected.Roles {
		if r.CrossAccount {
			arnOf[r.Key] = r.ARN
		}
	}
	for _, doc := range docs {
		arnOf[doc.Key] = doc.ARN
	}
	out := map[string][]string{}
	for _, c := range expected.Cells {
		if c.Allowed && c.Action == verify.GetSecretValue {
			out[c.Secret] = append(out[c.Secret], arnOf[c.Role])
		}
	}
	if d.AssumeRoleARN != "" {
		for _, s := range d.Secrets {
			out[s.Name] = append(out[s.Name], d.AssumeRoleARN)
		}
		key := provision.StageKeyName(d)
		out[key] = append(out[key], d.AssumeRoleARN)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// decide evaluates p reading s. A read allowed only once the conditions
// audit cannot decide are given the benefit of the doubt (conditions of
// Allow statements taken as holding, conditional Deny statements as not
// applying) is Conditional.
func decide(p *Principal, s Secret, account string, rp *policy.Document, tags map[string]string) (Access, bool) {
	req := policy.Request{Principal: p.ARN, Action: GetSecretValue, Resource: s.ARN, Context: requestContext(p, account, tags)}
	set := policy.PolicySet{Identity: p.Identity, Boundary: p.Boundary, Resource: rp}
	res := policy.Evaluate(set, req)
	conditional := false
	if res.Decision != policy.Allowed {
		relaxed := policy.PolicySet{Boundary: relax(p.Boundary), Resource: relax(rp)}
		for _, d := range p.Identity {
			relaxed.Identity = append(relaxed.Identity, relax(d))
		}
		if res = policy.Evaluate(relaxed, req); res.Decision != policy.Allowed {
			return Access{}, false
		}
		conditional = true
	}
	acc := Access{Secret: s.Name, Principal: p.ARN, Type: p.Type, Name: p.Name, Conditional: conditional, Sources: []string{}}
	seen := map[string]bool{}
	for _, m := range res.Matched {
		var label string
		switch {
		case m.Source == "resource":
			label = "resource policy"
		case strings.HasPrefix(m.Source, "identity["):
			i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m.Source, "identity["), "]"))
			label = p.Labels[i]
		default:
			continue // the boundary bounds; it grants nothing
		}
		if !seen[label] {
			seen[label] = true
			acc.Sources = append(acc.Sources, label)
		}
	}
	sort.Strings(acc.Sources)
	return acc, true
}

// requestContext is the request context audit can vouch for: who the caller is
// and the secret's tags.
func requestContext(p *Principal, account string, tags map[string]string) map[string][]string {
	typ := "AssumedRole"
	if p.Type == "user" {
		typ = "User"
	}
	c := map[string][]string{
		"aws:PrincipalArn":     {p.ARN},
		"aws:PrincipalAccount": {account},
		"aws:PrincipalType":    {typ},
		"aws:ResourceAccount":  {account},
	}
	for k, v := range tags {
		c["aws:ResourceTag/"+k] = []string{v}
		c["secretsmanager:ResourceTag/"+k] = []string{v}
	}
	return c
}

// relax returns d with its conditions decided in the caller's favour:
// Allow statements lose their conditions and conditional Deny statements
// are dropped. nil stays nil.
func relax(d *policy.Document) *policy.Document {
	if d == nil {
		return nil
	}
	out := &policy.Document{Version: d.Version, ID: d.ID}
	for _, s := range d.Statement {
		switch {
		case s.Effect == policy.Allow:
			s.Condition = nil
		case len(s.Condition) > 0:
			continue
		}
		out.Statement = append(out.Statement, s)
	}
	return out
}

// accountGrantsOnly returns the resource policy with the account
// principals taken out of its Allow statements: naming an account (its ID
// or root) in a resource policy delegates to that account's identity
// policies and lets nobody in by itself, which the evaluator, written for
// the caller's side, does not model. Deny statements stay whole.
func accountGrantsOnly(d *policy.Document) *policy.Document {
	if d == nil {
		return nil
	}
	out := &policy.Document{Version: d.Version, ID: d.ID}
	for _, s := range d.Statement {
		if s.Effect == policy.Allow && s.Principal != nil && !s.Principal.Wildcard {
			p := &policy.Principal{Values: map[string]policy.StringList{}}
			for kind, vs := range s.Principal.Values {
				for _, v := range vs {
					if kind != "AWS" || !isAccount(v) {
						p.Values[kind] = append(p.Values[kind], v)
					}
				}
			}
			if len(p.Values) == 0 {
				continue
			}
			s.Principal = p
		}
		out.Statement = append(out.Statement, s)
	}
	return out
}

// externalReaders lists the principals outside account that rp lets read
// s: a principal of another account (or that account as a whole), and
// anyone for a "*" principal or a NotPrincipal; not the spec's
// cross-account readers of s (s.Readers).
func externalReaders(s Secret, account string, rp *policy.Document) []Finding {
	if rp == nil {
		return nil
	}
	var out []Finding
	for i, st := range rp.Statement {
		if st.Effect != policy.Allow {
			continue
		}
		var who []string
		switch {
		case st.NotPrincipal != nil, st.Principal != nil && st.Principal.Wildcard:
			who = []string{"*"}
		case st.Principal != nil:
			for _, v := range st.Principal.Values["AWS"] {
				if v == "*" || accountOfPrincipal(v) != account && !contains(s.Readers, v) {
					who = append(who, v)
				}
			}
		}
		for _, w := range who {
			// Does the statement allow the read to w at all? Asked with w
			// as the caller (its root for an account) and the statement
			// alone; conditions in w's favour.
			caller := w
			if w == "*" {
				caller = "arn:aws:iam::999999999999:root"
			} else if isAccount(w) {
				caller = "arn:aws:iam::" + accountOfPrincipal(w) + ":root"
			}
			one := &policy.Document{Version: rp.Version, Statement: []policy.Statement{st}}
			one.Statement[0].Principal, one.Statement[0].NotPrincipal = &policy.Principal{Wildcard: true}, nil
			req := policy.Request{Principal: caller, Action: GetSecretValue, Resource: s.ARN}
			if policy.Evaluate(policy.PolicySet{Resource: relax(one)}, req).Decision != policy.Allowed {
				continue
			}
			detail := fmt.Sprintf("statement %d", i+1)
			if st.Sid != "" {
				detail = "statement " + st.Sid
			}
			if len(st.Condition) > 0 {
				detail += ", when its conditions hold"
			}
			who := w
			if w == "*" {
				who = "anyone (*)"
			}
			out = append(out, Finding{Kind: External, Secret: s.Name, Principal: who, Detail: detail})
		}
	}
	return out
}

// outsiders lists who outside account a trust policy's Allow statements
// let assume the role: AWS principals of other accounts (sts:AssumeRole),
// "anyone (*)", and web identity providers whose statement
// (sts:AssumeRoleWithWebIdentity) has no condition on the token's subject,
// which any identity of the provider — any repository of a CI service, any
// service account of a cluster — satisfies.
func outsiders(trust *policy.Document, account string) []string {
	if trust == nil {
		return nil
	}
	var out []string
	for _, st := range trust.Statement {
		if st.Effect != policy.Allow {
			continue
		}
		assume := allowsAction(st, "sts:AssumeRole")
		switch {
		case !assume && !allowsAction(st, "sts:AssumeRoleWithWebIdentity"):
		case st.NotPrincipal != nil, st.Principal != nil && st.Principal.Wildcard:
			out = append(out, "anyone (*)")
		case st.Principal != nil:
			for _, v := range st.Principal.Values["AWS"] {
				switch {
				case !assume:
				case v == "*":
					out = append(out, "anyone (*)")
				case accountOfPrincipal(v) != account:
					out = append(out, v)
				}
			}
			if allowsAction(st, "sts:AssumeRoleWithWebIdentity") && !conditionsOnSubject(st) {
				for _, v := range st.Principal.Values["Federated"] {
					out = append(out, "any identity of "+v+" (no condition on its subject)")
				}
			}
		}
	}
	sort.Strings(out)
	return compact(out)
}

// conditionsOnSubject reports whether a statement conditions the web
// identity token's subject ("<provider>:sub").
func conditionsOnSubject(st policy.Statement) bool {
	for _, keys := range st.Condition {
		for k := range keys {
			if strings.HasSuffix(strings.ToLower(k), ":sub") {
				return true
			}
		}
	}
	return false
}

// allowsAction reports whether the statement's Action or NotAction covers
// action.
func allowsAction(st policy.Statement, action string) bool {
	doc := &policy.Document{Statement: []policy.Statement{{Effect: policy.Allow, Action: st.Action, NotAction: st.NotAction, Resource: policy.StringList{"*"}}}}
	return policy.Evaluate(policy.PolicySet{Identity: []*policy.Document{doc}}, policy.Request{Action: action, Resource: "*"}).Decision == policy.Allowed
}

// isAccount reports whether an AWS principal names a whole account: a
// 12-digit ID or its root ARN.
func isAccount(v string) bool {
	if len(v) == 12 && strings.Trim(v, "0123456789") == "" {
		return true
	}
	return strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":root")
}

// accountOfPrincipal is the account an AWS principal belongs to.
func accountOfPrincipal(v string) string {
	if len(v) == 12 && strings.Trim(v, "0123456789") == "" {
		return v
	}
	if parts := strings.SplitN(v, ":", 6); len(parts) == 6 {
		return parts[4]
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func compact(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
