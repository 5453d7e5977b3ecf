package verify

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/policy"
)

// Simulator is the IAM call Online makes; *iam.Client satisfies it, and so
// does the SDK's paginator interface.
type Simulator interface {
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// parallelism bounds concurrent simulations: IAM's rate for
// SimulatePrincipalPolicy is not published and bursts get throttled.
const parallelism = 4

// Online asks IAM what each existing role may do on every existing secret:
// one SimulatePrincipalPolicy per role (paginated) with all the secrets'
// ARNs and the four Actions; one per role and secret with a resource
// policy, which the simulator is given with the role's ARN as
// aws:PrincipalArn; and one per role and secret with a customer managed
// key for KMSDecrypt on that key in the secret's DecryptContext.
// The context is one per call, so the KMSDecrypt cells cannot share a call
// across secrets. IAM evaluates every policy attached to the role —
// secretboot's and any other, inline or managed, and its permissions
// boundary — so access granted outside secretboot shows up. Roles or
// secrets that do not exist get no cells. Cross-account readers, which
// the simulator cannot take, are decided on the resource policies alone
// (crossAccountCells).
func Online(ctx context.Context, sim Simulator, roles []Role, secrets []Secret) (*Matrix, error) {
	m := &Matrix{Roles: append([]Role(nil), roles...), Secrets: append([]Secret(nil), secrets...)}
	jobs := simulations(roles, secrets)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, len(jobs))
		sem  = make(chan struct{}, parallelism)
	)
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cells, err := simulate(ctx, sim, j.role, j.in, j.nameOf)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", j.what, err)
				return
			}
			mu.Lock()
			m.Cells = append(m.Cells, cells...)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first in call order, as a rerun would meet it
		}
	}
	var existing []Secret
	for _, s := range secrets {
		if s.Exists {
			existing = append(existing, s)
		}
	}
	crossAccountCells(m, existing)
	m.sort()
	return m, nil
}

// simulation is one SimulatePrincipalPolicy: its input, which secret each
// answered resource stands for, and what to call it in an error.
type simulation struct {
	in     *iam.SimulatePrincipalPolicyInput
	nameOf map[string]string
	what   string
	role   Role
}

// simulations lists Online's calls: per existing role, one over every
// existing secret with the stage's ownership tags as resource context, and
// one per secret under a customer managed key for KMSDecrypt. None when no
// secret exists yet.
func simulations(roles []Role, secrets []Secret) []simulation {
	nameOf := map[string]string{}
	var arns []string
	var encrypted, locked []Secret
	owner := map[string][]string{} // every secret of a stage carries the same ownership tags
	for _, s := range secrets {
		for k, v := range s.Owner {
			owner["aws:ResourceTag/"+k] = []string{v}
		}
		if s.Exists {
			if s.KMSKeyARN != "" {
				encrypted = append(encrypted, s)
			}
			if s.Resource != nil {
				locked = append(locked, s)
				continue
			}
			nameOf[s.ARN] = s.Name
			arns = append(arns, s.ARN)
		}
	}
	sort.Strings(arns)
	var jobs []simulation
	for _, r := range roles {
		if !r.Exists {
			continue
		}
		if len(arns) > 0 {
			jobs = append(jobs, simulation{
				in: &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(r.ARN), ActionNames: Actions, ResourceArns: arns,
					ContextEntries: contextEntries(owner)},
				nameOf: nameOf,
				what:   fmt.Sprintf("simulating the policies of role %s (%s)", r.Key, r.ARN),
				role:   r,
			})
		}
		// A locked secret is simulated on its own, with its resource
		// policy, which keys on the caller's role ARN: the simulator takes
		// one resource policy per call and does not set aws:PrincipalArn.
		for _, s := range locked {
			ctx := map[string][]string{"aws:PrincipalArn": {r.ARN}}
			for k, v := range owner {
				ctx[k] = v
			}
			jobs = append(jobs, simulation{
				in: &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(r.ARN), ActionNames: Actions, ResourceArns: []string{s.ARN},
					ResourcePolicy: aws.String(string(s.Resource.Canonical())), ContextEntries: contextEntries(ctx)},
				nameOf: map[string]string{s.ARN: s.Name},
				what:   fmt.Sprintf("simulating the policies of role %s (%s) with the resource policy of secret %s", r.Key, r.ARN, s.Name),
				role:   r,
			})
		}
		for _, s := range encrypted {
			jobs = append(jobs, simulation{
				in: &iam.SimulatePrincipalPolicyInput{
					PolicySourceArn: aws.String(r.ARN), ActionNames: []string{KMSDecrypt}, ResourceArns: []string{s.KMSKeyARN},
					ContextEntries: contextEntries(DecryptContext(s.ARN)),
				},
				nameOf: map[string]string{s.KMSKeyARN: s.Name},
				what:   fmt.Sprintf("simulating %s of role %s (%s) for secret %s", KMSDecrypt, r.Key, r.ARN, s.Name),
				role:   r,
			})
		}
	}
	return jobs
}

// contextEntries spells a request context for the simulator, sorted by
// key so that requests are reproducible.
func contextEntries(c map[string][]string) []iamtypes.ContextEntry {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]iamtypes.ContextEntry, 0, len(keys))
	for _, k := range keys {
		out = append(out, iamtypes.ContextEntry{ContextKeyName: aws.String(k), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: c[k]})
	}
	return out
}

// simulate runs one simulation for role r; nameOf maps each resource asked
// about to the secret whose cell its answer fills.
func simulate(ctx context.Context, sim Simulator, r Role, in *iam.SimulatePrincipalPolicyInput, nameOf map[string]string) ([]Cell, error) {
	p := iam.NewSimulatePrincipalPolicyPaginator(sim, in)
	cells := map[[2]string]Cell{}
	add := func(action, resource string, decision iamtypes.PolicyEvaluationDecisionType, matched []iamtypes.Statement) error {
		name, ok := nameOf[resource]
		if !ok {
			return fmt.Errorf("IAM answered for resource %q, which was not asked about", resource)
		}
		c := Cell{Role: r.Key, Secret: name, Action: action, Decision: string(decision), Allowed: decision == iamtypes.PolicyEvaluationDecisionTypeAllowed}
		seen := map[string]bool{}
		for _, s := range matched {
			if id := aws.ToString(s.SourcePolicyId); id != "" && id != r.Boundary && !seen[id] {
				seen[id] = true
				c.Sources = append(c.Sources, id)
			}
		}
		sort.Strings(c.Sources)
		// Should IAM answer twice for one cell, the more restrictive
		// answer stands.
		key := [2]string{name, action}
		if prev, ok := cells[key]; !ok || restrictiveness(c.Decision) > restrictiveness(prev.Decision) {
			cells[key] = c
		}
		return nil
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.EvaluationResults {
			action := aws.ToString(e.EvalActionName)
			// IAM now answers once per action, with the most restrictive
			// decision on top and the decision per resource in
			// ResourceSpecificResults; it used to answer once per action
			// and resource (as the sandbox does). Both are read.
			if len(e.ResourceSpecificResults) > 0 {
				for _, rs := range e.ResourceSpecificResults {
					if err := add(action, aws.ToString(rs.EvalResourceName), rs.EvalResourceDecision, rs.MatchedStatements); err != nil {
						return nil, err
					}
				}
				continue
			}
			if err := add(action, aws.ToString(e.EvalResourceName), e.EvalDecision, e.MatchedStatements); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Cell, 0, len(cells))
	for _, c := range cells {
		out = append(out, c)
	}
	return out, nil
}

func restrictiveness(decision string) int {
	switch policy.Decision(decision) {
	case policy.Allowed:
		return 0
	case policy.ImplicitDeny:
		return 1
	}
	return 2
}
