package provision

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/spec"
)

// observeResourcePolicies reads, with one GetResourcePolicy each, the
// resource policies of the owned secrets that the intent gives one
// (SecretRef.Resource) or that carry TagResourcePolicy (so that opting
// out deletes it). A secret scheduled for deletion is not read: apply
// restores it before it writes its policy whole.
func (o *Observed) observeResourcePolicies(ctx context.Context, s *Session, d *spec.Desired, in *Intent) error {
	var read []*ObservedSecret
	for _, name := range in.resourcePolicyReads(d) {
		read = append(read, o.Secrets[name])
	}
	var mu sync.Mutex
	return forEachParallel(read, observeParallelism, func(os *ObservedSecret) error {
		out, err := s.SecretsManager.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(os.ARN)})
		if err != nil {
			return wrap(err, "reading the resource policy of secret", os.Name)
		}
		mu.Lock()
		o.ResourcePolicies[os.Name] = aws.ToString(out.ResourcePolicy)
		mu.Unlock()
		return nil
	})
}

// resourcePolicyReads names, sorted, the secrets whose resource policy
// Observe reads: owned, not scheduled for deletion, and opted in or
// tagged as holding secretboot's policy.
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
