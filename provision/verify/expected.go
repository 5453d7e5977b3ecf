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
	replicas := map[string][]spec.Replica{}
	for _, s := range d.Secrets {
		replicas[s.Key] = s.Replicas
	}
	secrets := make([]Secret, 0, len(refs))
	for _, r := range refs {
		sec := Secret{Key: r.Key, Name: r.Name, ARN: r.ARN, Exists: r.Exists, KMSKeyARN: keys[r.Key],
			Owner: map[string]string{provision.TagProject: d.Project, provision.TagStage: d.Stage}, Resource: r.Resource,
			CrossAccountReaders: cross[r.Key]}
		secrets = append(secrets, sec)
		if r.Key == "" {
			continue
		}
		// Each replica is checked as a secret of its own: its ARN in its
		// region, its own key; the resource policy is replicated with it.
		for _, rep := range replicas[r.Key] {
			c := sec
			c.Name, c.ARN, c.KMSKeyARN = ReplicaName(r.Name, rep.Region), provision.ReplicaARN(r.ARN, rep.Region), rep.KMSKeyARN
			secrets = append(secrets, c)
		}
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

// ReplicaName names a secret's replica in region in matrices: the
// secret's name and "@region".
func ReplicaName(name, region string) string { return name + "@" + region }

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
	roles := map[string]*spec.Role{}
	for _, r := range d.Roles {
		roles[r.Key] = r
	}
	grants := map[[3]string]bool{}
	for _, s := range d.Secrets {
		m.Secrets = append(m.Secrets, Secret{Key: s.Key, Name: s.Name, KMSKeyARN: s.KMSKeyARN})
		for _, rep := range s.Replicas {
			m.Secrets = append(m.Secrets, Secret{Key: s.Key, Name: ReplicaName(s.Name, rep.Region), KMSKeyARN: rep.KMSKeyARN})
		}
		for _, rd := range s.Readers {
			r := roles[rd.Role]
			if r == nil {
				continue
			}
			// A reader reads each copy in its regions (all by default).
			for _, c := range s.ReaderRegions(d.Region, r) {
				name := s.Name
				if c.Region != d.Region {
					name = ReplicaName(s.Name, c.Region)
				}
				grants[[3]string{rd.Role, name, GetSecretValue}] = true
				grants[[3]string{rd.Role, name, KMSDecrypt}] = true
				if rd.Describe {
					grants[[3]string{rd.Role, name, DescribeSecret}] = true
				}
			}
		}
		for _, arn := range s.CrossAccountReaders {
			grants[[3]string{crossKey[arn], s.Name, GetSecretValue}] = true
			grants[[3]string{crossKey[arn], s.Name, KMSDecrypt}] = true
			// The resource policy travels with every replica.
			for _, rep := range s.Replicas {
				grants[[3]string{crossKey[arn], ReplicaName(s.Name, rep.Region), GetSecretValue}] = true
				grants[[3]string{crossKey[arn], ReplicaName(s.Name, rep.Region), KMSDecrypt}] = true
			}
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
