package policy

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/secretboot/secretboot/templates"
)

// Grant is one secret a role may read.
type Grant struct {
	// SecretARN is the exact ARN, or for a secret not created yet the
	// pending pattern "arn:…:secret:<name>-??????".
	SecretARN string
	// Describe also grants secretsmanager:DescribeSecret.
	Describe bool
	// KMSKeyARN is the customer managed key that encrypts the secret, or ""
	// for the AWS managed key (which needs no grant).
	KMSKeyARN string
	// Region is the region of SecretARN when it is not the policy's (a
	// replica): its key's grant is limited to Secrets Manager there.
	Region string
}

// Sids of the statements ReadPolicy writes. They are stable so that
// reviewers and grant diffs can follow a statement across versions.
const (
	SidReadSecrets     = "ReadSecrets"
	SidDescribeSecrets = "DescribeSecrets"
	sidDecryptPrefix   = "DecryptWithKey"
)

const (
	actionGetSecretValue = "secretsmanager:GetSecretValue"
	actionDescribeSecret = "secretsmanager:DescribeSecret"
	actionKMSDecrypt     = "kms:Decrypt"
	pendingSuffix        = "-??????"
)

// IsPending reports whether a secret ARN is the pattern that stands for a
// secret that does not exist yet.
func IsPending(secretARN string) bool { return strings.HasSuffix(secretARN, pendingSuffix) }

// ReadPolicy synthesizes the least-privilege read policy of one role:
// GetSecretValue on exactly the granted secrets; DescribeSecret only on the
// secrets whose grant asks for it (in the same statement when both sets are
// equal); and per customer KMS key, kms:Decrypt on that key limited to calls
// made by Secrets Manager in region (a replica's grant: in its Region) for
// exactly that key's secrets. A replica is a secret of its own ARN (the
// primary's name and suffix in its region), granted like any other. It
// returns nil when there is nothing to grant. The result is deterministic
// whatever the order of grants.
func ReadPolicy(region string, grants []Grant) *Document {
	if len(grants) == 0 {
		return nil
	}
	describe := map[string]bool{}
	for _, g := range grants {
		describe[g.SecretARN] = describe[g.SecretARN] || g.Describe
	}
	byKey, keyRegion := grantsByKey(region, grants)
	secrets := sortedKeys(describe)
	var described []string
	for _, s := range secrets {
		if describe[s] {
			described = append(described, s)
		}
	}

	d := &Document{Version: "2012-10-17"}
	if len(described) == len(secrets) {
		d.Statement = append(d.Statement, Statement{
			Sid: SidReadSecrets, Effect: Allow,
			Action:   StringList{actionDescribeSecret, actionGetSecretValue},
			Resource: secrets,
		})
	} else {
		d.Statement = append(d.Statement, Statement{
			Sid: SidReadSecrets, Effect: Allow, Action: StringList{actionGetSecretValue}, Resource: secrets,
		})
		if len(described) > 0 {
			d.Statement = append(d.Statement, Statement{
				Sid: SidDescribeSecrets, Effect: Allow, Action: StringList{actionDescribeSecret}, Resource: described,
			})
		}
	}
	for i, key := range sortedKeys(byKey) {
		d.Statement = append(d.Statement, Statement{
			Sid: fmt.Sprintf("%s%d", sidDecryptPrefix, i+1), Effect: Allow,
			Action: StringList{actionKMSDecrypt}, Resource: StringList{key}, Condition: viaSecretsManager(keyRegion[key], sortedKeys(byKey[key])),
		})
	}
	return d.normalized()
}

// grantsByKey groups the secret ARNs of grants by customer key, with the
// region each key is used in (a key is regional: a grant's Region, else
// the policy's region).
func grantsByKey(region string, grants []Grant) (map[string]map[string]bool, map[string]string) {
	byKey, keyRegion := map[string]map[string]bool{}, map[string]string{}
	for _, g := range grants {
		if g.KMSKeyARN == "" {
			continue
		}
		if byKey[g.KMSKeyARN] == nil {
			byKey[g.KMSKeyARN] = map[string]bool{}
		}
		byKey[g.KMSKeyARN][g.SecretARN] = true
		keyRegion[g.KMSKeyARN] = region
		if g.Region != "" {
			keyRegion[g.KMSKeyARN] = g.Region
		}
	}
	return byKey, keyRegion
}

// viaSecretsManager limits a KMS grant to Secrets Manager of region acting
// for exactly the given secrets (kms:ViaService, and the SecretARN of the
// encryption context Secrets Manager sends). StringLike only when a
// pending "-??????" ARN needs it: with exact ARNs StringEquals states
// plainly that no pattern is involved.
func viaSecretsManager(region string, secretARNs []string) Conditions {
	op := "StringEquals"
	for _, a := range secretARNs {
		if IsPending(a) {
			op = "StringLike"
		}
	}
	cond := Conditions{"StringEquals": {"kms:ViaService": {"secretsmanager." + region + ".amazonaws.com"}}}
	if cond[op] == nil {
		cond[op] = map[string]StringList{}
	}
	cond[op]["kms:EncryptionContext:SecretARN"] = StringList(secretARNs)
	return cond
}

// TrustPolicy builds the trust (assume-role) policy for the given service
// principals from templates/trust/<service>.json. Statements that differ
// only in their Service principal are merged into one, so several services
// yield one statement listing them all. An unknown service is an error.
func TrustPolicy(services []string) (*Document, error) {
	if len(services) == 0 {
		return nil, fmt.Errorf("trust policy: no service principal given")
	}
	svcs := StringList(services).normalized()
	merged := &Document{Version: "2012-10-17"}
	index := map[string]int{} // statement without its services -> position in merged
	for _, svc := range svcs {
		name := "trust/" + svc + ".json"
		if strings.Contains(svc, "/") || !fs.ValidPath(name) {
			return nil, fmt.Errorf("trust policy: invalid service principal %q", svc)
		}
		b, err := fs.ReadFile(templates.FS, name)
		if err != nil {
			return nil, fmt.Errorf("trust policy: no template for service principal %q", svc)
		}
		t, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("trust policy template %s: %w", name, err)
		}
		for _, s := range t.normalized().Statement {
			var services StringList
			if s.Principal != nil && !s.Principal.Wildcard {
				services = s.Principal.Values["Service"]
			}
			shape := s
			if services != nil {
				p := &Principal{Values: map[string]StringList{}}
				for k, v := range s.Principal.Values {
					if k != "Service" {
						p.Values[k] = v
					}
				}
				shape.Principal = p
			}
			key := string((&Document{Statement: []Statement{shape}}).Compact())
			i, ok := index[key]
			if !ok || services == nil {
				index[key] = len(merged.Statement)
				merged.Statement = append(merged.Statement, s)
				continue
			}
			prev := merged.Statement[i].Principal
			merged.Statement[i].Principal = &Principal{Values: map[string]StringList{}}
			for k, v := range prev.Values {
				merged.Statement[i].Principal.Values[k] = v
			}
			merged.Statement[i].Principal.Values["Service"] = append(append(StringList{}, prev.Values["Service"]...), services...)
		}
	}
	return merged.normalized(), nil
}
