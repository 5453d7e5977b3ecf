package provision

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/spec"
)

// readResourcePolicy reads, with one GetResourcePolicy, the resource
// policy of an owned secret that the intent gives one (SecretRef.Resource)
// or that carries TagResourcePolicy (so that opting out deletes it);
// resourcePolicyReads chooses them. mu guards o.ResourcePolicies.
func (o *Observed) readResourcePolicy(ctx context.Context, s *Session, mu *sync.Mutex, os *ObservedSecret) error {
	out, err := s.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(os.ARN)})
	if err != nil {
		return wrap(err, "reading the resource policy of secret", os.Name)
	}
	mu.Lock()
	o.ResourcePolicies[os.Name] = aws.ToString(out.ResourcePolicy)
	mu.Unlock()
	return nil
}

// resourcePolicyReads names, sorted, the secrets whose resource policy
// Observe reads: owned, not scheduled for deletion (apply restores it
// before it writes its policy whole), and opted in or tagged as holding
// secretboot's policy.
func (in *Intent) resourcePolicyReads(d *spec.Desired) []string {
	on := map[string]bool{}
	for _, ref := range in.Secrets {
		on[ref.Name] = ref.Resource != nil
	}
	var names []string
	for name, si := range in.secrets {
		if si.owned && !si.live.Deleted && (on[name] || si.live.Tags[TagResourcePolicy] != "") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}
