package verify

import (
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

// Offline decides every role × secret × action with the local evaluator
// from the documents secretboot synthesizes (inline, or the managed parts
// of a split policy), the way `verify --offline` does: no AWS access, and
// so no sight of other policies on the role. Pending secrets are evaluated
// at their "<name>-??????" pattern, also as the encryption context of
// KMSDecrypt, which the read policy's StringLike condition then matches.
func Offline(docs []provision.RoleDocuments, secrets []Secret) *Matrix {
	m := &Matrix{Roles: rolesOf(docs), Secrets: append([]Secret(nil), secrets...)}
	sets := map[string]policy.PolicySet{}
	keyOf := map[string]string{}
	for _, d := range docs {
		var set policy.PolicySet
		switch {
		case d.Layout.Inline != nil:
			set.Identity = []*policy.Document{d.Layout.Inline}
		default:
			set.Identity = d.Layout.Managed
		}
		sets[d.ARN] = set
		keyOf[d.ARN] = d.Key
	}
	nameOf := map[string]string{}
	arns := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s.Resource != nil {
			continue // decided below, with its resource policy
		}
		nameOf[s.ARN] = s.Name
		arns = append(arns, s.ARN)
	}
	for _, a := range policy.Matrix(sets, arns, Actions) {
		m.Cells = append(m.Cells, Cell{
			Role: keyOf[a.Role], Secret: nameOf[a.Secret], Action: a.Action,
			Allowed: a.Decision == policy.Allowed, Decision: string(a.Decision),
		})
	}
	// A locked secret: each role's policies with the secret's resource
	// policy, which keys on the caller's role ARN (aws:PrincipalArn).
	for _, d := range docs {
		for _, s := range secrets {
			if s.Resource == nil {
				continue
			}
			set := sets[d.ARN]
			set.Resource = s.Resource
			for _, action := range Actions {
				r := policy.Evaluate(set, policy.Request{Principal: d.ARN, Action: action, Resource: s.ARN,
					Context: map[string][]string{"aws:PrincipalArn": {d.ARN}}})
				m.Cells = append(m.Cells, Cell{Role: d.Key, Secret: s.Name, Action: action, Allowed: r.Decision == policy.Allowed, Decision: string(r.Decision)})
			}
		}
	}
	crossAccountCells(m, secrets)
	for _, d := range docs {
		for _, s := range secrets {
			if s.KMSKeyARN == "" {
				continue
			}
			r := policy.Evaluate(sets[d.ARN], policy.Request{Principal: d.ARN, Action: KMSDecrypt, Resource: s.KMSKeyARN, Context: DecryptContext(s.ARN)})
			m.Cells = append(m.Cells, Cell{Role: d.Key, Secret: s.Name, Action: KMSDecrypt, Allowed: r.Decision == policy.Allowed, Decision: string(r.Decision)})
		}
	}
	m.sort()
	return m
}

// crossAccountCells decides this account's side of each cross-account
// reader's access, the same offline and online (IAM's simulator cannot
// take a principal of another account): across accounts a request needs
// the secret's resource policy to allow it as well as the caller's
// identity policy, so a cell the resource policy does not allow (or a
// secret without one) is denied whatever the other account grants, and an
// allowed cell means this side allows. The other side, the role's identity
// policy and the key policy's grant (kms:Decrypt), gets no cell: Compare
// reports it unverified.
func crossAccountCells(m *Matrix, secrets []Secret) {
	roles := map[string]Role{}
	for _, s := range secrets {
		for _, r := range s.CrossAccountReaders {
			roles[r.Key] = r
		}
	}
	for _, r := range roles {
		m.Roles = append(m.Roles, r)
		for _, s := range secrets {
			for _, action := range Actions {
				decision := policy.ImplicitDeny
				if s.Resource != nil {
					decision = policy.Evaluate(policy.PolicySet{Resource: s.Resource}, policy.Request{Principal: r.ARN, Action: action, Resource: s.ARN,
						Context: map[string][]string{"aws:PrincipalArn": {r.ARN}}}).Decision
				}
				m.Cells = append(m.Cells, Cell{Role: r.Key, Secret: s.Name, Action: action, Allowed: decision == policy.Allowed, Decision: string(decision)})
			}
		}
	}
}
