package provision

import (
	"fmt"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// pendingARN stands for a secret that does not exist yet: "-??????" is
// the six random characters Secrets Manager appends. Plans show it; apply
// writes the exact ARN.
func pendingARN(region, account, name string) string {
	return "arn:" + partition(region) + ":secretsmanager:" + region + ":" + account + ":secret:" + name + "-??????"
}

// readPolicy builds a role's read policy from the secrets that name it as a
// reader. arns maps secret names to their exact ARNs; a secret without one
// gets the pending pattern and is listed in pending. The document is nil
// when the role reads nothing.
func readPolicy(d *spec.Desired, region, account string, arns map[string]string, role *spec.Role) (doc *policy.Document, pending []string) {
	var grants []policy.Grant
	for _, s := range d.Secrets {
		for _, r := range s.Readers {
			if r.Role != role.Key {
				continue
			}
			arn, ok := arns[s.Name]
			if !ok {
				arn = pendingARN(region, account, s.Name)
				pending = append(pending, s.Name)
			}
			grants = append(grants, policy.Grant{SecretARN: arn, Describe: r.Describe, KMSKeyARN: s.KMSKeyARN})
		}
	}
	return policy.ReadPolicy(region, grants), pending
}

// trustPolicy lets the role's services assume it.
func trustPolicy(r *spec.Role) (*policy.Document, error) {
	doc, err := policy.TrustPolicyFor(r.Trust())
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", r.Name, err)
	}
	return doc, nil
}

// parseLive parses a document read from IAM; nil when there is none.
func parseLive(s string) (*policy.Document, error) {
	if s == "" {
		return nil, nil
	}
	return policy.Parse([]byte(s))
}

// canonicalOf renders a live document canonically for comparison; one that
// does not parse is compared as written (and so differs from any desired
// one, which makes apply replace it).
func canonicalOf(s string) string {
	d, err := parseLive(s)
	if err != nil {
		return s
	}
	if d == nil {
		return ""
	}
	return string(d.Canonical())
}
