package provision

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/internal/relay"
	"github.com/secretboot/secretboot/spec"
)

// Observer receives apply progress. Calls may come from several goroutines
// at once.
type Observer interface {
	// ChangeStarted is called before the first call of a change.
	ChangeStarted(c Change)
	// ChangeFinished is called once per started change; err is nil on
	// success.
	ChangeFinished(c Change, err error)
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Parallelism bounds concurrent changes per service (Secrets Manager,
	// IAM) within a phase; 0 means 10.
	Parallelism int
	// Observer, when set, receives progress.
	Observer Observer
	// Rand is the source of generated values and the stage key; nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// PropagationTimeout bounds the retries for eventual consistency: a
	// new role not yet visible to other IAM calls, and a replica added
	// again while its region still holds the one just removed
	// (awaitReadded); 0 means 2 minutes.
	PropagationTimeout time.Duration
	// Settle is how long a new value waits after the changes of the same
	// apply that take reading the secret away from someone
	// (narrowBeforeValues) have ended. AWS documents IAM as eventually
	// consistent: a change takes time to be visible from every endpoint
	// (IAM User Guide, "Changes that I make are not always immediately
	// visible", troubleshoot_general.html#troubleshoot_general_eventual-consistency),
	// so a removed reader may still read for a moment after the call that
	// removed it has answered. The wait is best effort within that
	// propagation, not a bound. A restored secret whose resource policy
	// the apply puts or deletes waits too (the policy it was deleted with
	// is unknown); any other apply without such a change never waits. 0
	// means 10 seconds.
	Settle time.Duration
}

// ApplyResult says which changes were applied, which failed and which were
// not attempted, by change ID, and what it took.
type ApplyResult struct {
	Done    []string
	Failed  []ChangeError
	NotDone []string
	Summary ApplySummary
}

// ApplySummary counts an apply's changes and the API calls it made, the
// re-observation before the writes included. render.ApplySummary prints it.
type ApplySummary struct {
	Changes   int           // changes made
	Failed    int           // changes that failed
	NotDone   int           // changes not attempted
	Calls     int           // API operations
	Retries   int           // attempts beyond the first, by the SDK's retryer
	Throttles int           // attempts answered with a throttling error
	Duration  time.Duration // wall time of the apply
	Ops       []OpStats     // the calls per operation, sorted by service and operation
}

// ChangeError is the failure of one change.
type ChangeError struct {
	ID  string
	Err error
}

// ApplyError is returned when some changes failed. Rerunning apply
// converges: every write is idempotent.
type ApplyError struct{ Result *ApplyResult }

func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apply incomplete: %d done, %d failed, %d not attempted", len(e.Result.Done), len(e.Result.Failed), len(e.Result.NotDone))
	for _, f := range e.Result.Failed {
		fmt.Fprintf(&b, "\n  %s: %v", f.ID, f.Err)
	}
	if len(e.Result.NotDone) > 0 {
		fmt.Fprintf(&b, "\n  not attempted: %s", strings.Join(e.Result.NotDone, ", "))
	}
	b.WriteString("\nrun apply again to finish; completed changes are not repeated")
	return b.String()
}

// StalePlanError reports that a plan no longer matches the spec or AWS.
type StalePlanError struct{ Reason string }

func (e *StalePlanError) Error() string {
	return "the plan is stale: " + e.Reason + "; run plan again"
}

// ErrPlanWithoutPayloads refuses a plan made with DiffOptions.NoPayloads:
// it never compared a payload, so applying it could not tell which to
// write.
var ErrPlanWithoutPayloads = errors.New("this plan was made without the payload sources (plan -no-payloads): it shows the structure for review and cannot be applied; run plan -out with the payload sources set, and apply that plan")

// Apply carries out a plan. It re-observes the stage first and refuses the
// plan when the spec or the live state changed since it was made (so a
// saved plan is applied exactly as reviewed), then applies changes in order
// roles → secrets → policies → instance profiles, with deletions of roles
// last, except that a change narrowing who reads a secret runs before the
// secret's new value (narrowBeforeValues), which then waits Settle.
// Independent changes run in parallel.
func Apply(ctx context.Context, s *Session, plan *Plan, d *spec.Desired, opts ApplyOptions) (*ApplyResult, error) {
	if plan.PayloadsNotCompared {
		return nil, ErrPlanWithoutPayloads
	}
	if d.PayloadsSkipped && !plan.Destroy {
		return nil, errPayloadsSkipped
	}
	if plan.Header.Project != d.Project || plan.Header.Stage != d.Stage {
		return nil, &StalePlanError{Reason: fmt.Sprintf("it was made for %s/%s, not %s/%s", plan.Header.Project, plan.Header.Stage, d.Project, d.Stage)}
	}
	if plan.Header.Account != s.Identity.Account {
		return nil, &StalePlanError{Reason: fmt.Sprintf("it was made for account %s, the credentials are for %s", plan.Header.Account, s.Identity.Account)}
	}
	if plan.Header.SpecHash != d.SpecHash {
		return nil, &StalePlanError{Reason: "the spec changed since the plan was made"}
	}
	start, before := time.Now(), s.CallStats()
	o, err := Observe(ctx, s, d)
	if err != nil {
		return nil, err
	}
	in := Resolve(d, o)
	fresh, err := diffIntent(d, o, in, DiffOptions{Destroy: plan.Destroy, Regenerate: plan.Regenerate})
	if err != nil {
		return nil, err
	}
	if why := staleness(plan, fresh); why != "" {
		return nil, &StalePlanError{Reason: why}
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.PropagationTimeout <= 0 {
		opts.PropagationTimeout = 2 * time.Minute
	}
	if opts.Settle <= 0 {
		opts.Settle = 10 * time.Second
	}
	a := &applier{s: s, d: d, o: o, in: in, opts: opts, arns: maps.Clone(in.arns), key: o.stageKey,
		status: map[string]error{}, ended: map[string]time.Time{}, restoreLocks: restoreLocks(fresh)}
	if err := validateResourcePolicies(ctx, s, fresh); err != nil {
		return nil, err
	}
	if err := ensureBoundary(ctx, s, d, o.Account, fresh); err != nil {
		return nil, err
	}
	res, err := a.run(ctx, fresh)
	calls := s.CallStats().Since(before)
	total := calls.Total()
	res.Summary = ApplySummary{
		Changes: len(res.Done), Failed: len(res.Failed), NotDone: len(res.NotDone),
		Calls: total.Calls, Retries: total.Retries, Throttles: total.Throttles,
		Duration: time.Since(start), Ops: calls.Ops,
	}
	logCallStats(ctx, s.debug, "apply calls", calls)
	return res, err
}

// staleness compares a plan with one just computed; "" means equal.
func staleness(old, fresh *Plan) string {
	if jsonHash(old.Observed) != jsonHash(fresh.Observed) {
		return "the resources in AWS changed since the plan was made"
	}
	if jsonHash(old.Changes) != jsonHash(fresh.Changes) {
		return "the changes needed differ from the ones in the plan"
	}
	return ""
}

// jsonHash is the SHA-256 of v's JSON encoding, which is deterministic
// (fields in order, map keys sorted): two plans' parts are equal when
// their hashes are, and comparing them holds neither as a second,
// decoded copy (at N=10,000 that copy was most of an apply's heap).
func jsonHash(v any) [sha256.Size]byte {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(v); err != nil {
		h.Write([]byte(err.Error()))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

type applier struct {
	s    *Session
	d    *spec.Desired
	o    *Observed
	in   *Intent // what the plan was made for
	opts ApplyOptions

	mu     sync.Mutex
	arns   map[string]string // secret name → ARN: the intent's, and those of the secrets created
	key    spec.Sealed       // the stage key, revealed only to key a version token
	status map[string]error  // change ID → result, for dependency checks
	// replicatedOnCreate names the secrets whose CreateSecret carried
	// their replicas (AddReplicaRegions): their replication change is done.
	replicatedOnCreate map[string]bool
	ended              map[string]time.Time // change ID → when it ended, for Settle
	kinds              map[string]Kind      // change ID → its kind
	// restoreLocks are the resource policy changes of the secrets the plan
	// restores, by secret name: the secret's change applies each between
	// RestoreSecret and the value write. Such a change depends on the
	// restore, so when it runs the restore has put it already.
	restoreLocks map[string]Change
	lanes        [2]chan struct{} // the slots of each lane
}

// restoreLocks indexes the resource policy changes of the secrets p
// restores. Observe does not read a deleted secret's policy, so what it
// admits is unknown: it may name readers the spec has removed, who could
// read the restored secret's new value if the policy were put after it.
// As a separate change it could not go first (a secret scheduled for
// deletion refuses PutResourcePolicy), so the restore carries it.
func restoreLocks(p *Plan) map[string]Change {
	restored := map[string]bool{}
	for _, c := range p.Changes {
		if c.Kind == KindSecret && c.Action == ActionRestore {
			restored[c.Name] = true
		}
	}
	locks := map[string]Change{}
	for _, c := range p.Changes {
		if c.Kind == KindResourcePolicy && restored[c.Name] {
			locks[c.Name] = c
		}
	}
	return locks
}

// phase orders the changes of a plan the way apply runs them, so a plan
// reads top to bottom: stage key, then roles and secrets (which apply runs
// side by side: neither needs the other), policies, instance profiles, and
// role deletions last. Apply itself follows each change's DependsOn.
func phase(c Change) int {
	switch {
	case c.Kind == KindStageKey && c.Action != ActionDelete:
		return 0
	case c.Kind == KindRole && c.Action != ActionDelete,
		c.Kind == KindSecret || c.Kind == KindStageKey:
		return 1
	case c.Kind == KindReplication && c.Action == ActionDelete:
		return 1 // before the secret's deletion
	case c.Kind == KindRolePolicy, c.Kind == KindResourcePolicy, c.Kind == KindReplication:
		return 2
	case c.Kind == KindInstanceProfile:
		return 3
	}
	return 4 // role deletions, once policies and profiles are gone
}

// lane is the service a change calls; each lane has its own parallelism
// bound, so slow IAM writes never hold the slots Secrets Manager could use.
func lane(c Change) int {
	if c.Kind == KindSecret || c.Kind == KindStageKey || c.Kind == KindResourcePolicy || c.Kind == KindReplication {
		return 0
	}
	return 1
}

func (a *applier) run(ctx context.Context, p *Plan) (*ApplyResult, error) {
	// Each change starts as soon as the changes it depends on are done, so
	// roles and instance profiles go on while secrets are still being
	// written, and each service's work is bounded by its own lane.
	finished := make(map[string]chan struct{}, len(p.Changes))
	for _, c := range p.Changes {
		finished[c.ID] = make(chan struct{})
	}
	a.lanes = [2]chan struct{}{make(chan struct{}, a.opts.Parallelism), make(chan struct{}, a.opts.Parallelism)}
	a.kinds = make(map[string]Kind, len(p.Changes))
	for _, c := range p.Changes {
		a.kinds[c.ID] = c.Kind
	}
	var wg sync.WaitGroup
	var panics relay.Relay
	for _, c := range p.Changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished[c.ID])
			defer panics.Catch()
			for _, dep := range c.DependsOn {
				if ch, ok := finished[dep]; ok {
					<-ch
				}
			}
			if !a.depsDone(c) {
				a.record(c.ID, errSkipped)
				return
			}
			if err := a.settle(ctx, c); err != nil {
				a.record(c.ID, err)
				return
			}
			sem := a.lanes[lane(c)]
			sem <- struct{}{}
			defer func() { <-sem }()
			if a.opts.Observer != nil {
				a.opts.Observer.ChangeStarted(c)
			}
			err := a.apply(ctx, c)
			if a.opts.Observer != nil {
				a.opts.Observer.ChangeFinished(c, err)
			}
			a.record(c.ID, err)
		}()
	}
	wg.Wait()
	panics.Rethrow()
	res := &ApplyResult{}
	for _, c := range p.Changes {
		switch err := a.status[c.ID]; {
		case err == nil:
			res.Done = append(res.Done, c.ID)
		case errors.Is(err, errSkipped):
			res.NotDone = append(res.NotDone, c.ID)
		default:
			res.Failed = append(res.Failed, ChangeError{ID: c.ID, Err: err})
		}
	}
	if len(res.Failed)+len(res.NotDone) > 0 {
		return res, &ApplyError{Result: res}
	}
	return res, nil
}

var errSkipped = errors.New("not attempted: a change it depends on failed")

func (a *applier) record(id string, err error) {
	a.mu.Lock()
	a.status[id] = err
	a.ended[id] = time.Now()
	a.mu.Unlock()
}

// settle waits, holding no slot, until Settle has passed since the last
// of c's dependencies that narrow who reads its secret ended. Only
// narrowBeforeValues makes a secret's change depend on a read or
// resource policy change, so a change without one starts at once.
func (a *applier) settle(ctx context.Context, c Change) error {
	if c.Kind != KindSecret {
		return nil
	}
	var last time.Time
	a.mu.Lock()
	for _, dep := range c.DependsOn {
		if k := a.kinds[dep]; (k == KindRolePolicy || k == KindResourcePolicy) && a.ended[dep].After(last) {
			last = a.ended[dep]
		}
	}
	a.mu.Unlock()
	if last.IsZero() {
		return nil
	}
	return sleep(ctx, time.Until(last.Add(a.opts.Settle)))
}

// idle waits d without c's lane slot, so that a change waiting on AWS
// does not keep the other changes of its service from running. It returns
// how long it waited beyond d for the slot to come back, behind the changes
// queued meanwhile, so that a caller's deadline counts AWS's time only.
func (a *applier) idle(ctx context.Context, c Change, d time.Duration) (time.Duration, error) {
	sem := a.lanes[lane(c)]
	<-sem
	err := sleep(ctx, d)
	queued := time.Now()
	sem <- struct{}{}
	return time.Since(queued), err
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (a *applier) depsDone(c Change) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, dep := range c.DependsOn {
		if err, ok := a.status[dep]; !ok || err != nil {
			return false
		}
	}
	// Secrets need the stage key, and an earlier phase may have failed to
	// make it.
	if c.Kind == KindSecret && c.Secret != nil && c.Secret.Payload != nil && a.key.IsEmpty() {
		return false
	}
	return true
}

func (a *applier) apply(ctx context.Context, c Change) error {
	switch c.Kind {
	case KindStageKey:
		return a.stageKey(ctx, c)
	case KindSecret:
		if c.Action == ActionDelete {
			return a.deleteSecret(ctx, c)
		}
		return a.secret(ctx, c)
	case KindRole:
		return a.role(ctx, c)
	case KindRolePolicy:
		return a.policy(ctx, c)
	case KindInstanceProfile:
		return a.profile(ctx, c)
	case KindResourcePolicy:
		if _, done := a.restoreLocks[c.Name]; done {
			return nil
		}
		return a.resourcePolicy(ctx, c)
	case KindReplication:
		return a.replicate(ctx, c)
	}
	return fmt.Errorf("unknown change kind %q", c.Kind)
}

// propagating retries a call that may fail while IAM propagates a
// resource created moments ago: NoSuchEntity, and MalformedPolicyDocument
// naming an invalid principal. The SDK's retryer does not cover these.
func (a *applier) propagating(ctx context.Context, what string, call func() error) error {
	deadline := time.Now().Add(a.opts.PropagationTimeout)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		if !propagationError(err) || time.Now().Add(wait).After(deadline) {
			if isAccessDenied(err) {
				return &AccessDeniedError{Operation: what, Err: err}
			}
			return fmt.Errorf("%s (attempt %d): %w", what, attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func propagationError(err error) bool {
	switch apiCode(err) {
	case "NoSuchEntity":
		return true
	case "MalformedPolicyDocument":
		return strings.Contains(strings.ToLower(err.Error()), "principal")
	}
	return false
}
