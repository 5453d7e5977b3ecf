package verify

import (
	"slices"
	"strings"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// Targets lists the roles and secrets of stage d to check, from the role
// documents and secret references the engine computes (provision.
// RoleDocumentsOf and provision.SecretRefs): every role of the spec, and
// every secret of the spec plus the stage key secret, each with the
// customer managed key d declares for it. The key is the spec's, not the
// live secret's: it is the key the read policy grants, and a live secret on
// another key is a change that plan shows.
func Targets(d *spec.Desired, docs []provision.RoleDocuments, refs []provision.SecretRef) ([]Role, []Secret) {
	keys := map[string]string{}
	cross := map[string][]Role{}
	for _, s := range d.Secrets {
		keys[s.Key] = s.KMSKeyARN
		cross[s.Key] = crossAccountRoles(d, s.CrossAccountReaders)
	}
	secrets := make([]Secret, 0, len(refs))
	for _, r := range refs {
		secrets = append(secrets, Secret{Key: r.Key, Name: r.Name, ARN: r.ARN, Exists: r.Exists, KMSKeyARN: keys[r.Key],
			Owner: map[string]string{provision.TagProject: d.Project, provision.TagStage: d.Stage}, Resource: r.Resource,
			CrossAccountReaders: cross[r.Key]})
	}
	roles := rolesOf(docs)
	for i := range roles {
		if !roles[i].External {
			roles[i].Boundary = provision.BoundaryName(d)
		}
	}
	return roles, secrets
}

// crossAccountRoles are the roles of d.CrossAccountRoles whose ARNs are
// arns (a secret's CrossAccountReaders), nil when none.
func crossAccountRoles(d *spec.Desired, arns []string) []Role {
	var out []Role
	for _, r := range d.CrossAccountRoles {
		if slices.Contains(arns, r.External) {
			out = append(out, crossAccountRole(r))
		}
	}
	return out
}

func crossAccountRole(r *spec.Role) Role {
	return Role{Key: r.Key, Name: r.External[strings.LastIndexByte(r.External, '/')+1:], ARN: r.External, External: true, CrossAccount: true}
}

func rolesOf(docs []provision.RoleDocuments) []Role {
	roles := make([]Role, 0, len(docs))
	for _, d := range docs {
		roles = append(roles, Role{Key: d.Key, Name: d.Name, ARN: d.ARN, External: d.External, Exists: d.Exists})
	}
	return roles
}

// Expected is the access the spec intends: each reader, in this account or
// another, may GetSecretValue its secrets, DescribeSecret those whose
// reader entry asks for it, and KMSDecrypt those with a customer managed
// key; a secret's rotator may
// also PutSecretValue it (the rotation protocol, policy.RotationPolicy);
// every other cell — other writes, deletes, the stage key, secrets of
// other readers — is denied.
func Expected(d *spec.Desired) *Matrix {
	m := &Matrix{}
	for _, r := range d.Roles {
		role := Role{Key: r.Key, Name: r.Name}
		if !r.Managed() {
			role = Role{Key: r.Key, Name: r.External[strings.LastIndexByte(r.External, '/')+1:], ARN: r.External, External: true}
		}
		m.Roles = append(m.Roles, role)
	}
	crossKey := map[string]string{}
	for _, r := range d.CrossAccountRoles {
		m.Roles = append(m.Roles, crossAccountRole(r))
		crossKey[r.External] = r.Key
	}
	grants := map[[3]string]bool{}
	for _, s := range d.Secrets {
		m.Secrets = append(m.Secrets, Secret{Key: s.Key, Name: s.Name, KMSKeyARN: s.KMSKeyARN})
		for _, rd := range s.Readers {
			grants[[3]string{rd.Role, s.Name, GetSecretValue}] = true
			grants[[3]string{rd.Role, s.Name, KMSDecrypt}] = true
			if rd.Describe {
				grants[[3]string{rd.Role, s.Name, DescribeSecret}] = true
			}
		}
		for _, arn := range s.CrossAccountReaders {
			grants[[3]string{crossKey[arn], s.Name, GetSecretValue}] = true
			grants[[3]string{crossKey[arn], s.Name, KMSDecrypt}] = true
		}
		if r := s.Rotation; r != nil && r.Rotator != "" {
			for _, a := range []string{GetSecretValue, DescribeSecret, PutSecretValue, KMSDecrypt} {
				grants[[3]string{r.Rotator, s.Name, a}] = true
			}
		}
	}
	m.Secrets = append(m.Secrets, Secret{Name: provision.StageKeyName(d)})
	for _, r := range m.Roles {
		for _, s := range m.Secrets {
			for _, a := range actionsOn(s) {
				m.Cells = append(m.Cells, Cell{Role: r.Key, Secret: s.Name, Action: a, Allowed: grants[[3]string{r.Key, s.Name, a}]})
			}
		}
	}
	m.sort()
	return m
}

// actionsOn lists the actions checked on one secret.
func actionsOn(s Secret) []string {
	if s.KMSKeyARN == "" {
		return Actions
	}
	return append(append([]string(nil), Actions...), KMSDecrypt)
}
