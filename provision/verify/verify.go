package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// The actions every role is checked for on every secret.
const (
	GetSecretValue = "secretsmanager:GetSecretValue"
	DescribeSecret = "secretsmanager:DescribeSecret"
	PutSecretValue = "secretsmanager:PutSecretValue"
	DeleteSecret   = "secretsmanager:DeleteSecret"
)

// KMSDecrypt is checked, for every role, on each secret encrypted with a
// customer managed key: kms:Decrypt on that key in the context Secrets
// Manager sends when it decrypts that secret (see DecryptContext). Reading
// such a secret needs it as well as GetSecretValue.
const KMSDecrypt = "kms:Decrypt"

// Actions lists the actions checked on every secret in the order matrices
// show them: the two read actions a reader may have, then the two it must
// never have.
var Actions = []string{GetSecretValue, DescribeSecret, PutSecretValue, DeleteSecret}

// ActionsFor lists the actions a matrix over secrets shows: Actions, and
// KMSDecrypt last when some secret has a customer managed key. A stage
// without one keeps the four columns it always had.
func ActionsFor(secrets []Secret) []string {
	for _, s := range secrets {
		if s.KMSKeyARN != "" {
			return actionsOn(s)
		}
	}
	return Actions
}

// DecryptContext is the request context of the kms:Decrypt call Secrets
// Manager makes to read the secret at secretARN: the secret's ARN as
// encryption context, and Secrets Manager of the secret's region as the
// calling service, spelled as policy's read policy expects it.
func DecryptContext(secretARN string) map[string][]string {
	region := ""
	if parts := strings.SplitN(secretARN, ":", 5); len(parts) == 5 {
		region = parts[3]
	}
	return map[string][]string{
		encryptionContextKey: {secretARN},
		viaServiceKey:        {"secretsmanager." + region + ".amazonaws.com"},
	}
}

const (
	encryptionContextKey = "kms:EncryptionContext:SecretARN"
	viaServiceKey        = "kms:ViaService"
)

// Role is a role whose access is checked.
type Role struct {
	Key      string `json:"key"`  // label in the spec
	Name     string `json:"name"` // IAM role name
	ARN      string `json:"arn,omitempty"`
	External bool   `json:"external,omitempty"`
	// Unlisted marks a role under the stage's path that the spec does not
	// name (see Unlisted); its key is its path and name.
	Unlisted bool `json:"unlisted,omitempty"`
	Exists   bool `json:"exists"`
	// Boundary names the stage's permissions boundary on a managed role:
	// its statements bound and never grant, so they are no source.
	Boundary string `json:"-"`
}

// Secret is a secret whose readers are checked.
type Secret struct {
	Key    string `json:"key,omitempty"` // label in the spec; "" for the stage key secret
	Name   string `json:"name"`
	ARN    string `json:"arn,omitempty"` // exact, or the pending "<name>-??????" pattern
	Exists bool   `json:"exists"`
	// KMSKeyARN is the customer managed key the spec encrypts the secret
	// with; "" for the AWS managed key, which needs no grant and gets no
	// KMSDecrypt cell.
	KMSKeyARN string `json:"kms_key_arn,omitempty"`
}

// Cell is one decision: may Role perform Action on Secret?
type Cell struct {
	Role    string `json:"role"`   // role key
	Secret  string `json:"secret"` // secret name
	Action  string `json:"action"`
	Allowed bool   `json:"allowed"`
	// Decision is IAM's spelling (allowed, implicitDeny, explicitDeny); ""
	// in the expected matrix, which states intent only.
	Decision string `json:"decision,omitempty"`
	// Sources name the policies whose statements decided the cell, when
	// the decision came with them (online: the policy names IAM reports).
	Sources []string `json:"sources,omitempty"`
}

// Matrix is a set of decisions over roles × secrets × actions: Actions on
// every secret, and KMSDecrypt on those with a customer managed key. Cells
// are sorted by role key, secret name and the order of ActionsFor; a role or
// secret that could not be checked (it does not exist) has no cells.
type Matrix struct {
	Roles   []Role   `json:"roles"`
	Secrets []Secret `json:"secrets"`
	Cells   []Cell   `json:"cells"`
}

// Lookup returns the cell for a role key, secret name and action.
func (m *Matrix) Lookup(role, secret, action string) (Cell, bool) {
	i := sort.Search(len(m.Cells), func(i int) bool { return !cellLess(m.Cells[i], Cell{Role: role, Secret: secret, Action: action}) })
	if i < len(m.Cells) && m.Cells[i].Role == role && m.Cells[i].Secret == secret && m.Cells[i].Action == action {
		return m.Cells[i], true
	}
	return Cell{}, false
}

func actionIndex(a string) int {
	for i, x := range Actions {
		if x == a {
			return i
		}
	}
	if a == KMSDecrypt {
		return len(Actions)
	}
	return len(Actions) + 1
}

func cellLess(a, b Cell) bool {
	if a.Role != b.Role {
		return a.Role < b.Role
	}
	if a.Secret != b.Secret {
		return a.Secret < b.Secret
	}
	return actionIndex(a.Action) < actionIndex(b.Action)
}

func (m *Matrix) sort() {
	sort.Slice(m.Roles, func(i, j int) bool { return m.Roles[i].Key < m.Roles[j].Key })
	sort.Slice(m.Secrets, func(i, j int) bool { return m.Secrets[i].Name < m.Secrets[j].Name })
	sort.Slice(m.Cells, func(i, j int) bool { return cellLess(m.Cells[i], m.Cells[j]) })
}

// Targets lists the roles and secrets of stage d to check, from the role
// documents and secret references the engine computes (provision.
// RoleDocumentsOf and provision.SecretRefs): every role of the spec, and
// every secret of the spec plus the stage key secret, each with the
// customer managed key d declares for it. The key is the spec's, not the
// live secret's: it is the key the read policy grants, and a live secret on
// another key is a change that plan shows.
func Targets(d *spec.Desired, docs []provision.RoleDocuments, refs []provision.SecretRef) ([]Role, []Secret) {
	keys := map[string]string{}
	for _, s := range d.Secrets {
		keys[s.Key] = s.KMSKeyARN
	}
	secrets := make([]Secret, 0, len(refs))
	for _, r := range refs {
		secrets = append(secrets, Secret{Key: r.Key, Name: r.Name, ARN: r.ARN, Exists: r.Exists, KMSKeyARN: keys[r.Key]})
	}
	roles := rolesOf(docs)
	for i := range roles {
		if !roles[i].External {
			roles[i].Boundary = provision.BoundaryName(d)
		}
	}
	return roles, secrets
}

func rolesOf(docs []provision.RoleDocuments) []Role {
	roles := make([]Role, 0, len(docs))
	for _, d := range docs {
		roles = append(roles, Role{Key: d.Key, Name: d.Name, ARN: d.ARN, External: d.External, Exists: d.Exists})
	}
	return roles
}

// Expected is the access the spec intends: each reader may GetSecretValue
// its secrets, DescribeSecret those whose reader entry asks for it, and
// KMSDecrypt those with a customer managed key; every other cell — writes,
// deletes, the stage key, secrets of other readers — is denied.
func Expected(d *spec.Desired) *Matrix {
	m := &Matrix{}
	for _, r := range d.Roles {
		role := Role{Key: r.Key, Name: r.Name}
		if !r.Managed() {
			role = Role{Key: r.Key, Name: r.External[strings.LastIndexByte(r.External, '/')+1:], ARN: r.External, External: true}
		}
		m.Roles = append(m.Roles, role)
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
// ARNs and the four Actions, and one per role and secret with a customer
// managed key for KMSDecrypt on that key in the secret's DecryptContext.
// The context is one per call, so the KMSDecrypt cells cannot share a call
// across secrets. IAM evaluates every policy attached to the role —
// secretboot's and any other, inline or managed, and its permissions
// boundary — so access granted outside secretboot shows up. Roles or
// secrets that do not exist get no cells.
func Online(ctx context.Context, sim Simulator, roles []Role, secrets []Secret) (*Matrix, error) {
	m := &Matrix{Roles: append([]Role(nil), roles...), Secrets: append([]Secret(nil), secrets...)}
	nameOf := map[string]string{}
	var arns []string
	var encrypted []Secret
	for _, s := range secrets {
		if s.Exists {
			nameOf[s.ARN] = s.Name
			arns = append(arns, s.ARN)
			if s.KMSKeyARN != "" {
				encrypted = append(encrypted, s)
			}
		}
	}
	sort.Strings(arns)
	if len(arns) == 0 {
		m.sort()
		return m, nil
	}
	// One simulation: its input, which secret each answered resource
	// stands for, and what to call it in an error.
	type job struct {
		in     *iam.SimulatePrincipalPolicyInput
		nameOf map[string]string
		what   string
		role   Role
	}
	var jobs []job
	for _, r := range roles {
		if !r.Exists {
			continue
		}
		jobs = append(jobs, job{
			in:     &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(r.ARN), ActionNames: Actions, ResourceArns: arns},
			nameOf: nameOf,
			what:   fmt.Sprintf("simulating the policies of role %s (%s)", r.Key, r.ARN),
			role:   r,
		})
		for _, s := range encrypted {
			jobs = append(jobs, job{
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
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, len(jobs))
		sem  = make(chan struct{}, parallelism)
	)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	m.sort()
	return m, nil
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

// DifferenceKind says how a cell differs from what the spec intends.
type DifferenceKind string

// Kinds of differences.
const (
	// Extra: allowed, though the spec does not grant it.
	Extra DifferenceKind = "extra"
	// Missing: the spec grants it, but it is denied.
	Missing DifferenceKind = "missing"
	// Unverified: the role or the secret does not exist, so nothing
	// could be checked; one difference stands for all its cells.
	Unverified DifferenceKind = "unverified"
)

// Difference is one disagreement between two matrices.
type Difference struct {
	Kind     DifferenceKind `json:"kind"`
	Role     string         `json:"role,omitempty"`   // role key; "" when a secret is unverified for every role
	Secret   string         `json:"secret,omitempty"` // secret name; "" when a role is unverified
	Action   string         `json:"action,omitempty"` // "" for unverified
	Decision string         `json:"decision,omitempty"`
	Sources  []string       `json:"sources,omitempty"`
	Reason   string         `json:"reason,omitempty"` // why a cell is unverified
}

// String describes the difference in one line.
func (d Difference) String() string {
	switch d.Kind {
	case Extra:
		s := fmt.Sprintf("extra access: role %s may %s on %s, which the spec does not grant", d.Role, d.Action, d.Secret)
		if len(d.Sources) > 0 {
			s += fmt.Sprintf(" (allowed by %s)", strings.Join(d.Sources, ", "))
		}
		return s
	case Missing:
		s := fmt.Sprintf("missing access: role %s may not %s on %s, which the spec grants", d.Role, d.Action, d.Secret)
		if d.Decision == string(policy.ExplicitDeny) {
			s += " (explicitly denied"
			if len(d.Sources) > 0 {
				s += " by " + strings.Join(d.Sources, ", ")
			}
			s += ")"
		}
		return s
	}
	return "not verified: " + d.Reason
}

// Compare lists where actual differs from expected, sorted by role, secret
// and action: cells allowed beyond the spec (Extra), grants the spec makes
// that are denied (Missing), and, for each role or secret that actual
// could not check, one Unverified. Cells of actual that expected does not
// have (secrets outside the spec) count as Extra when allowed.
func Compare(expected, actual *Matrix) []Difference {
	var out []Difference
	roles := map[string]Role{}
	for _, r := range actual.Roles {
		roles[r.Key] = r
	}
	secretExists := map[string]bool{}
	for _, s := range actual.Secrets {
		secretExists[s.Name] = s.Exists
	}
	unverified := map[[2]string]bool{}
	for _, e := range expected.Cells {
		a, ok := actual.Lookup(e.Role, e.Secret, e.Action)
		switch {
		case !ok:
			var key [2]string
			var reason string
			switch r := roles[e.Role]; {
			case !r.Exists && r.External:
				key, reason = [2]string{e.Role, ""}, fmt.Sprintf("external role %s (%s) does not exist or cannot be read", e.Role, r.ARN)
			case !r.Exists:
				key, reason = [2]string{e.Role, ""}, fmt.Sprintf("role %s does not exist yet (run apply)", e.Role)
			case !secretExists[e.Secret]:
				key, reason = [2]string{"", e.Secret}, fmt.Sprintf("secret %s does not exist yet (run apply)", e.Secret)
			default:
				key, reason = [2]string{e.Role, e.Secret}, fmt.Sprintf("no decision for role %s on secret %s", e.Role, e.Secret)
			}
			if !unverified[key] {
				unverified[key] = true
				out = append(out, Difference{Kind: Unverified, Role: key[0], Secret: key[1], Reason: reason})
			}
		case a.Allowed && !e.Allowed:
			out = append(out, Difference{Kind: Extra, Role: e.Role, Secret: e.Secret, Action: e.Action, Decision: a.Decision, Sources: a.Sources})
		case !a.Allowed && e.Allowed:
			out = append(out, Difference{Kind: Missing, Role: e.Role, Secret: e.Secret, Action: e.Action, Decision: a.Decision, Sources: a.Sources})
		}
	}
	for _, a := range actual.Cells {
		if _, ok := expected.Lookup(a.Role, a.Secret, a.Action); !ok && a.Allowed {
			out = append(out, Difference{Kind: Extra, Role: a.Role, Secret: a.Secret, Action: a.Action, Decision: a.Decision, Sources: a.Sources})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return cellLess(Cell{Role: out[i].Role, Secret: out[i].Secret, Action: out[i].Action},
			Cell{Role: out[j].Role, Secret: out[j].Secret, Action: out[j].Action})
	})
	return out
}

// Mode says how a result's matrix was computed.
type Mode string

// Modes.
const (
	Simulated Mode = "simulated" // IAM SimulatePrincipalPolicy
	Local     Mode = "offline"   // the local evaluator on synthesized documents
)

// Result is what `secretboot verify` reports, as JSON with -json.
type Result struct {
	Project     string       `json:"project"`
	Stage       string       `json:"stage"`
	Mode        Mode         `json:"mode"`
	Actions     []string     `json:"actions"` // ActionsFor the stage's secrets
	Roles       []Role       `json:"roles"`
	Secrets     []Secret     `json:"secrets"`
	Expected    []Cell       `json:"expected"` // what the spec grants: the allowed cells of Expected(d)
	Cells       []Cell       `json:"cells"`    // every decision made
	Differences []Difference `json:"differences"`
	OK          bool         `json:"ok"`
}

// NewResult compares actual with what d intends.
func NewResult(d *spec.Desired, mode Mode, actual *Matrix) *Result {
	expected := Expected(d)
	r := &Result{
		Project: d.Project, Stage: d.Stage, Mode: mode, Actions: ActionsFor(expected.Secrets),
		Roles: actual.Roles, Secrets: actual.Secrets, Cells: actual.Cells,
		Expected: []Cell{}, Differences: Compare(expected, actual),
	}
	for _, c := range expected.Cells {
		if c.Allowed {
			r.Expected = append(r.Expected, c)
		}
	}
	if r.Differences == nil {
		r.Differences = []Difference{}
	}
	if r.Cells == nil {
		r.Cells = []Cell{}
	}
	r.OK = len(r.Differences) == 0
	return r
}
