package provision

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

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
	// PropagationTimeout bounds the retries for IAM eventual consistency
	// (a new role not yet visible to other calls); 0 means 2 minutes.
	PropagationTimeout time.Duration
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

// Apply carries out a plan. It re-observes the stage first and refuses the
// plan when the spec or the live state changed since it was made (so a
// saved plan is applied exactly as reviewed), then applies changes in order
// roles → secrets → policies → instance profiles, with deletions of roles
// last. Independent changes of a phase run in parallel.
func Apply(ctx context.Context, s *Session, plan *Plan, d *spec.Desired, opts ApplyOptions) (*ApplyResult, error) {
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
	fresh, err := Diff(d, o, DiffOptions{Destroy: plan.Destroy, Regenerate: plan.Regenerate})
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
	a := &applier{s: s, d: d, o: o, opts: opts, arns: map[string]string{}, key: o.stageKey, status: map[string]error{}}
	for name, os := range o.Secrets {
		if o.owns(d, os) {
			a.arns[name] = os.ARN
		}
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
	if !reflect.DeepEqual(jsonOf(old.Observed), jsonOf(fresh.Observed)) {
		return "the resources in AWS changed since the plan was made"
	}
	if !reflect.DeepEqual(jsonOf(old.Changes), jsonOf(fresh.Changes)) {
		return "the changes needed differ from the ones in the plan"
	}
	return ""
}

func jsonOf(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

type applier struct {
	s    *Session
	d    *spec.Desired
	o    *Observed
	opts ApplyOptions

	mu     sync.Mutex
	arns   map[string]string // secret name → ARN, as created
	key    spec.Sealed       // the stage key, revealed only to key a version token
	status map[string]error  // change ID → result, for dependency checks
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
	case c.Kind == KindRolePolicy:
		return 2
	case c.Kind == KindInstanceProfile:
		return 3
	}
	return 4 // role deletions, once policies and profiles are gone
}

// lane is the service a change calls; each lane has its own parallelism
// bound, so slow IAM writes never hold the slots Secrets Manager could use.
func lane(c Change) int {
	if c.Kind == KindSecret || c.Kind == KindStageKey {
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
	lanes := [2]chan struct{}{make(chan struct{}, a.opts.Parallelism), make(chan struct{}, a.opts.Parallelism)}
	var wg sync.WaitGroup
	var panics relay
	for _, c := range p.Changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished[c.ID])
			defer panics.catch()
			for _, dep := range c.DependsOn {
				if ch, ok := finished[dep]; ok {
					<-ch
				}
			}
			if !a.depsDone(c) {
				a.record(c.ID, errSkipped)
				return
			}
			sem := lanes[lane(c)]
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
	panics.rethrow()
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
	a.mu.Unlock()
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
	}
	return fmt.Errorf("unknown change kind %q", c.Kind)
}

func (a *applier) stageKey(ctx context.Context, c Change) error {
	sm := a.s.SecretsManager
	switch c.Action {
	case ActionDelete:
		return a.deleteSecret(ctx, c)
	case ActionRestore:
		if _, err := sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(c.Secret.ARN)}); err != nil {
			return wrap(err, "restoring the stage key", c.Name)
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.Secret.ARN)})
		if err != nil {
			return wrap(err, "reading the stage key", c.Name)
		}
		a.setKey(spec.Seal(out.SecretBinary))
		return nil
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(a.opts.Rand, raw); err != nil {
		return fmt.Errorf("creating the stage key: %w", err)
	}
	a.s.maskKey(raw)
	key := spec.Seal(raw)
	clear(raw)
	tags := []smtypes.Tag{{Key: aws.String(TagStageKey), Value: aws.String("true")}}
	for _, k := range sortedKeys(ownerTags(a.d)) {
		tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(ownerTags(a.d)[k])})
	}
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(c.Name),
		Description:  aws.String("secretboot stage key for " + a.d.Project + "/" + a.d.Stage + ": keys version tokens; never read by applications"),
		SecretBinary: key.Reveal(),
		Tags:         tags,
	})
	if apiCode(err) == "ResourceExistsException" {
		return a.stageKeyCreatedMeanwhile(ctx, c.Name, err)
	}
	if err != nil {
		return wrap(err, "creating the stage key", c.Name)
	}
	a.setKey(key)
	return nil
}

func (a *applier) setKey(k spec.Sealed) {
	a.mu.Lock()
	a.key = k
	a.mu.Unlock()
}

func (a *applier) sealedKey() spec.Sealed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.key
}

func (a *applier) desiredSecret(name string) *spec.Secret {
	for _, s := range a.d.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func smTags(m map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func (a *applier) secret(ctx context.Context, c Change) error {
	sm := a.s.SecretsManager
	s := a.desiredSecret(c.Name)
	if s == nil {
		return fmt.Errorf("secret %s is in the plan but not in the spec", c.Name)
	}
	regen := c.Secret.Payload.regenerate()
	if c.Action == ActionCreate {
		value, err := a.compose(s, nil, regen)
		if err != nil {
			return fmt.Errorf("secret %s: %w", c.Name, err)
		}
		in := &secretsmanager.CreateSecretInput{
			Name:               aws.String(s.Name),
			ClientRequestToken: aws.String(versionToken(a.sealedKey().Reveal(), a.d, s, 0)),
			Tags:               smTags(desiredSecretTags(a.d, s, 0)),
		}
		if s.Description != "" {
			in.Description = aws.String(s.Description)
		}
		if s.KMSKeyARN != "" {
			in.KmsKeyId = aws.String(s.KMSKeyARN)
		}
		setValue(s, value, &in.SecretString, &in.SecretBinary)
		out, err := sm.CreateSecret(ctx, in)
		if apiCode(err) == "ResourceExistsException" {
			return a.secretCreatedMeanwhile(ctx, s, aws.ToString(in.ClientRequestToken), regen, err)
		}
		if err != nil {
			return wrap(err, "creating secret", s.Name)
		}
		a.mu.Lock()
		a.arns[s.Name] = aws.ToString(out.ARN)
		a.mu.Unlock()
		// A new secret's first version is AWSCURRENT: it must be ours.
		if v := aws.ToString(out.VersionId); v != aws.ToString(in.ClientRequestToken) {
			return fmt.Errorf("secret %s: created with version %q, not %s, the version secretboot made for the spec: the secret does not hold the declared value", s.Name, v, aws.ToString(in.ClientRequestToken))
		}
		return nil
	}
	arn := aws.String(c.Secret.ARN)
	if c.Action == ActionRestore {
		if _, err := sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: arn}); err != nil {
			return wrap(err, "restoring secret", s.Name)
		}
	}
	if c.Secret.Description != nil || c.Secret.KMSKey != nil {
		in := &secretsmanager.UpdateSecretInput{SecretId: arn}
		if c.Secret.Description != nil {
			in.Description = aws.String(s.Description)
		}
		if c.Secret.KMSKey != nil {
			key := s.KMSKeyARN
			if key == "" {
				key = "alias/aws/secretsmanager"
			}
			in.KmsKeyId = aws.String(key)
		}
		if _, err := sm.UpdateSecret(ctx, in); err != nil {
			return wrap(err, "updating secret", s.Name)
		}
	}
	// Tags first: the generation tag must be in place before the write it
	// keys, or a failure in between would undo a regeneration on rerun.
	tags := map[string]string{}
	var untag []string
	for _, t := range c.Secret.Tags {
		if t.Removed {
			untag = append(untag, t.Key)
		} else {
			tags[t.Key] = t.New
		}
	}
	os := a.o.Secrets[s.Name]
	gen := generation(os.Tags)
	if len(regen) > 0 {
		gen++
	}
	if len(tags) > 0 {
		if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: arn, Tags: smTags(tags)}); err != nil {
			return wrap(err, "tagging secret", s.Name)
		}
	}
	if len(untag) > 0 {
		if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: arn, TagKeys: untag}); err != nil {
			return wrap(err, "untagging secret", s.Name)
		}
	}
	p := c.Secret.Payload
	if p == nil {
		return nil
	}
	return a.writePayload(ctx, s, c.Secret.ARN, p, os, gen, regen)
}

// regenerate lists the fields to regenerate ("" = all) of a payload change.
func (p *PayloadChange) regenerate() []string {
	if p == nil {
		return nil
	}
	return p.Regenerate
}

// setValue puts the payload into the request field its kind uses. This and
// the token are the only places payload bytes go.
func setValue(s *spec.Secret, v spec.Sealed, str **string, bin *[]byte) {
	if s.Payload.Kind == spec.KindBinary {
		*bin = v.Reveal()
		return
	}
	*str = aws.String(string(v.Reveal()))
}

// compose builds the value to write: declared fields plus generated ones,
// taken from live where present and not regenerated, new otherwise.
func (a *applier) compose(s *spec.Secret, live map[string]spec.Sealed, regen []string) (spec.Sealed, error) {
	gen := map[string]spec.Sealed{}
	for _, g := range s.Payload.Generators {
		if v, ok := live[g.Field]; ok && !contains(regen, g.Field) && !contains(regen, "") {
			gen[g.Field] = v
			continue
		}
		v, err := g.Generate(a.opts.Rand)
		if err != nil {
			return spec.Sealed{}, err
		}
		a.s.maskSecret(v.Reveal())
		gen[g.Field] = v
	}
	return s.Payload.Compose(gen)
}

func (a *applier) deleteSecret(ctx context.Context, c Change) error {
	days := c.Secret.RecoveryDays
	if days == 0 {
		days = 30
	}
	_, err := a.s.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId: aws.String(c.Secret.ARN), RecoveryWindowInDays: aws.Int64(int64(days)),
	})
	return wrap(err, "scheduling deletion of secret", c.Name)
}

func (a *applier) desiredRole(name string) *spec.Role {
	for _, r := range a.d.Roles {
		if r.Name == name || !r.Managed() && roleNameFromARN(r.External) == name {
			return r
		}
	}
	return nil
}

func (a *applier) role(ctx context.Context, c Change) error {
	iamc := a.s.IAM
	if c.Action == ActionDelete {
		if err := a.detachForeign(ctx, c.Name, c.Role.Detach); err != nil {
			return err
		}
		if err := a.deleteOtherInline(ctx, c.Name, c.Role.DeleteInline); err != nil {
			return err
		}
		_, err := iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(c.Name)})
		if isNotFound(err) {
			return nil
		}
		return wrap(err, "deleting role", c.Name)
	}
	r := a.desiredRole(c.Name)
	if r == nil {
		return fmt.Errorf("role %s is in the plan but not in the spec", c.Name)
	}
	tdoc, err := trustPolicy(r)
	if err != nil {
		return err
	}
	trust := string(tdoc.Compact())
	if c.Action == ActionCreate {
		in := &iam.CreateRoleInput{
			RoleName:                 aws.String(r.Name),
			Path:                     aws.String(RolePath(a.d)),
			AssumeRolePolicyDocument: aws.String(trust),
		}
		if r.Description != "" {
			in.Description = aws.String(r.Description)
		}
		// Every managed role carries the stage's boundary, which the
		// deployer policy makes a condition of creating it.
		in.PermissionsBoundary = aws.String(BoundaryARN(a.d, a.o.Account))
		tags := ownerTags(a.d)
		for k, v := range r.Tags {
			tags[k] = v
		}
		for _, k := range sortedKeys(tags) {
			in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		_, err = iamc.CreateRole(ctx, in)
		if apiCode(err) == "EntityAlreadyExists" {
			return a.roleCreatedMeanwhile(ctx, r.Name, err)
		}
		return wrap(err, "creating role", r.Name)
	}
	if err := a.convergeRole(ctx, r.Name, c.Role); err != nil {
		return err
	}
	if c.Role.Description != nil {
		if _, err := iamc.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(r.Name), Description: aws.String(r.Description)}); err != nil {
			return wrap(err, "updating role", r.Name)
		}
	}
	if c.Role.Trust != nil {
		if _, err := iamc.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(r.Name), PolicyDocument: aws.String(trust)}); err != nil {
			return wrap(err, "updating trust policy of role", r.Name)
		}
	}
	return nil
}

// policy applies a read policy change. An external role is recorded on
// the stage key before it gets the policy, and its record removed only
// after the policy is gone, so an apply that stops in between leaves a
// recorded role without a policy, never a policy nobody can find.
func (a *applier) policy(ctx context.Context, c Change) error {
	rec := c.Policy.Record
	if rec != nil && !rec.Removed {
		if err := a.tagStageKey(ctx, rec); err != nil {
			return err
		}
	}
	if err := a.applyPolicy(ctx, c); err != nil {
		return err
	}
	if rec != nil && rec.Removed {
		_, err := a.s.SecretsManager.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(a.stageKeyID()), TagKeys: []string{rec.Key}})
		return wrap(err, "removing the record of external role "+c.Policy.Role+" from the stage key", StageKeyName(a.d))
	}
	return nil
}

func (a *applier) tagStageKey(ctx context.Context, rec *TagChange) error {
	_, err := a.s.SecretsManager.TagResource(ctx, &secretsmanager.TagResourceInput{
		SecretId: aws.String(a.stageKeyID()), Tags: []smtypes.Tag{{Key: aws.String(rec.Key), Value: aws.String(rec.New)}},
	})
	return wrap(err, "recording an external role on the stage key", StageKeyName(a.d))
}

// stageKeyID names the stage key for a call: its ARN when it existed at
// observation, its name when this apply creates it.
func (a *applier) stageKeyID() string {
	if a.o.StageKey != nil {
		return a.o.StageKey.ARN
	}
	return StageKeyName(a.d)
}

func (a *applier) applyPolicy(ctx context.Context, c Change) error {
	pc := c.Policy
	if c.Action == ActionDelete {
		return a.removeReadPolicy(ctx, c)
	}
	if pc.recordOnly() {
		return nil
	}
	r := a.desiredRole(pc.Role)
	if r == nil {
		return fmt.Errorf("role %s is in the plan but not in the spec", pc.Role)
	}
	a.mu.Lock()
	doc, pending := readPolicy(a.d, a.o.Region, a.o.Account, a.arns, r)
	a.mu.Unlock()
	if len(pending) > 0 {
		return fmt.Errorf("role policy %s: the ARNs of %s are unknown", c.Name, strings.Join(pending, ", "))
	}
	return a.putReadPolicy(ctx, c, doc)
}

func (a *applier) profile(ctx context.Context, c Change) error {
	iamc := a.s.IAM
	name := aws.String(c.Name)
	remove := []string{c.Profile.RemoveRole}
	if c.Action == ActionCreate {
		tags := ownerTags(a.d)
		in := &iam.CreateInstanceProfileInput{InstanceProfileName: name, Path: aws.String(RolePath(a.d))}
		for _, k := range sortedKeys(tags) {
			in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		_, err := iamc.CreateInstanceProfile(ctx, in)
		if apiCode(err) == "EntityAlreadyExists" {
			roles, perr := a.profileCreatedMeanwhile(ctx, c.Name, err)
			if perr != nil {
				return perr
			}
			if contains(roles, c.Profile.AddRole) {
				return nil
			}
			remove = roles // a profile holds one role: make room
		} else if err != nil {
			return wrap(err, "creating instance profile", c.Name)
		}
	}
	for _, rr := range remove {
		if rr == "" {
			continue
		}
		_, err := iamc.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: name, RoleName: aws.String(rr)})
		if err != nil && !isNotFound(err) {
			return wrap(err, "removing role "+rr+" from instance profile", c.Name)
		}
	}
	if c.Action == ActionDelete {
		_, err := iamc.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: name})
		if isNotFound(err) {
			return nil
		}
		return wrap(err, "deleting instance profile", c.Name)
	}
	if ar := c.Profile.AddRole; ar != "" {
		return a.propagating(ctx, "adding role "+ar+" to instance profile "+c.Name, func() error {
			_, err := iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: name, RoleName: aws.String(ar)})
			return err
		})
	}
	return nil
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
