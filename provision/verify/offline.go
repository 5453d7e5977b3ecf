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
		nameOf[s.ARN] = s.Name
		arns = append(arns, s.ARN)
	}
	for _, a := range policy.Matrix(sets, arns, Actions) {
		m.Cells = append(m.Cells, Cell{
			Role: keyOf[a.Role], Secret: nameOf[a.Secret], Action: a.Action,
			Allowed: a.Decision == policy.Allowed, Decision: string(a.Decision),
		})
	}
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
