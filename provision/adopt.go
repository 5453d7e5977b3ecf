package provision

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/spec"
)

// Import adopts existing secrets that the spec declares but secretboot does
// not own, by tagging them as the stage's and, once the stage has a key,
// marking them (TagMark): tags alone prove nothing, so a secret
// that carries the stage's tags without a version secretboot wrote is
// adopted the same way. Payloads are not touched: the next apply writes
// each adopted secret once (its current version is not a secretboot
// token). names are spec labels or full secret names. Roles
// cannot be adopted: ownership of roles is their IAM path, which IAM does not
// let anyone change.
func Import(ctx context.Context, s *Session, d *spec.Desired, names []string) ([]string, error) {
	if d.PayloadsSkipped {
		return nil, errPayloadsSkipped
	}
	o, err := Observe(ctx, s, d)
	if err != nil {
		return nil, err
	}
	var targets []*ObservedSecret
	for _, n := range names {
		var ds *spec.Secret
		for _, x := range d.Secrets {
			if x.Key == n || x.Name == n {
				ds = x
			}
		}
		if ds == nil {
			for _, r := range d.Roles {
				if r.Key == n || r.Name == n {
					return nil, fmt.Errorf("import %s: roles cannot be imported (secretboot owns roles by their IAM path, which cannot change); delete the existing role or rename it in the spec", n)
				}
			}
			return nil, fmt.Errorf("import %s: the spec has no such secret in stage %s", n, d.Stage)
		}
		os := o.Secrets[ds.Name]
		switch {
		case os == nil:
			return nil, fmt.Errorf("import %s: no secret named %s exists; apply creates it", n, ds.Name)
		case os.Deleted:
			return nil, fmt.Errorf("import %s: secret %s is scheduled for deletion; restore it first (aws secretsmanager restore-secret)", n, ds.Name)
		case o.owns(d, os):
			continue // already ours: importing twice is fine
		case !ownedBy(os.Tags, d) && (os.Tags[TagProject] != "" || os.Tags[TagStage] != ""):
			return nil, fmt.Errorf("import %s: secret %s belongs to secretboot project %q stage %q; remove it there first", n, ds.Name, os.Tags[TagProject], os.Tags[TagStage])
		}
		targets = append(targets, os)
	}
	var done []string
	key := o.stageKey.Reveal()
	for _, os := range targets {
		tags := ownerTags(d)
		if len(key) > 0 {
			tags[TagMark] = ownerMark(key, d, os.Name, os.ARN)
		}
		if _, err := s.SecretsManager.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(os.ARN), Tags: smTags(tags)}); err != nil {
			return done, wrap(err, "tagging secret", os.Name)
		}
		done = append(done, os.Name)
	}
	sort.Strings(done)
	return done, nil
}

// Outputs are the identifiers other tools need (for example Terraform's
// aws_instance.iam_instance_profile), keyed by spec label so they read the
// same in every stage.
type Outputs struct {
	Project          string            `json:"project"`
	Stage            string            `json:"stage"`
	SecretARNs       map[string]string `json:"secret_arns"`       // secret label → ARN
	RoleARNs         map[string]string `json:"role_arns"`         // role label → ARN
	InstanceProfiles map[string]string `json:"instance_profiles"` // role label → instance profile name
}

// OutputsOf reads the outputs from an observed stage; resources that do not
// exist yet are left out.
func OutputsOf(d *spec.Desired, o *Observed) *Outputs {
	out := &Outputs{Project: d.Project, Stage: d.Stage, SecretARNs: map[string]string{}, RoleARNs: map[string]string{}, InstanceProfiles: map[string]string{}}
	for _, s := range d.Secrets {
		if os := o.Secrets[s.Name]; os != nil && !os.Deleted && o.owns(d, os) {
			out.SecretARNs[s.Key] = os.ARN
		}
	}
	for _, r := range d.Roles {
		if !r.Managed() {
			if or := o.External[r.Key]; or != nil {
				out.RoleARNs[r.Key] = or.ARN
			}
			continue
		}
		if or := o.Roles[r.Name]; or != nil {
			out.RoleARNs[r.Key] = or.ARN
		}
		if p := o.Profiles[r.Name]; r.InstanceProfile && p != nil {
			out.InstanceProfiles[r.Key] = p.Name
		}
	}
	return out
}
