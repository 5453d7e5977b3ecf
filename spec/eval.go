package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/secretboot/secretboot/internal/relay"
)

// EvalOptions are the inputs of an evaluation that do not come from the spec.
type EvalOptions struct {
	// Vars are -var name=value pairs; they take precedence over everything.
	Vars map[string]string
	// LookupEnv reads the environment for env() and SECRETBOOT_VAR_<name>;
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// SkipPayloads leaves value and binary unevaluated, so that commands
	// that never write a payload (policy, verify, output) run where the
	// payload sources are absent, such as a pull request's CI job. The
	// Desired says so (PayloadsSkipped), and the engine refuses to plan,
	// apply or import it.
	SkipPayloads bool
	// Mask, when not nil, is given a copy of every sensitive string the
	// evaluation produces, so that output streams can mask them: each value
	// of env, file and filebase64 (for filebase64 also the file's bytes),
	// every string inside a sensitive function result, and every declared
	// payload (Payload.Declared; for an object payload also each sensitive
	// string in it, and every string when the secret allows literals). It
	// is called from several goroutines at once (redact.Masker.Add is
	// safe for that), so that registering payloads takes every core too.
	Mask func(secret []byte)
}

// MinMaskedLength is the shortest secret that output masking replaces
// (redact.MinLength): shorter ones would mangle ordinary words. Evaluate
// warns about payloads and source values shorter than this.
const MinMaskedLength = 8

// envVarPrefix names environment variables that set spec variables.
const envVarPrefix = "SECRETBOOT_VAR_"

// evaluator holds the state of one Evaluate call.
type evaluator struct {
	c   *Config
	st  *StageConfig
	fns map[string]function.Function
	// quietFns are fns whose sources report nothing (no mask, no notes).
	quietFns map[string]function.Function
	ctx      *hcl.EvalContext
	// payloadCtx is payloadContext's, made on first use.
	payloadCtx *hcl.EvalContext
	diags      hcl.Diagnostics
	files      map[string]bool // paths read by file() and filebase64()
	lookup     func(string) (string, bool)
	mask       func([]byte)
	notes      []sourceNote // about source calls of the expression being evaluated

	skipPayloads bool
}

// sourceNote records a source call that deserves a warning at the place of
// the expression that made it.
type sourceNote struct {
	call    string // env("X"), file("p")
	short   bool   // the value is shorter than MinMaskedLength
	outside string // the file lies outside the spec directory: its resolved path
}

// Evaluate resolves the spec for one stage. It returns nil when the
// diagnostics hold an error; warnings come with a usable Desired.
func (c *Config) Evaluate(stage string, opts EvalOptions) (*Desired, hcl.Diagnostics) {
	st := c.Stage(stage)
	if st == nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown stage",
			Detail:   fmt.Sprintf("The spec declares no stage %q; it declares: %s.", stage, strings.Join(c.Stages(), ", ")),
		}}
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	// Secrets are evaluated on every core (secrets): LookupEnv is still
	// called one at a time; Mask says it may not be.
	lookup = serialized(lookup)
	e := &evaluator{c: c, st: st, lookup: lookup, mask: opts.Mask, skipPayloads: opts.SkipPayloads}
	e.init()
	// Re-evaluating a part of an expression for a check must not report
	// its sources a second time (warnings would repeat or land elsewhere).
	e.quietFns = functions(sources{dir: c.Dir, lookupEnv: lookup, read: func(string, string) {}, got: func(string, []byte) {}})
	vars := e.variables(opts.Vars, lookup)
	e.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: e.fns,
	}
	d := &Desired{
		Project:       c.Project,
		Stage:         st.Name,
		Region:        st.Region,
		AccountID:     st.AccountID,
		AssumeRoleARN: st.AssumeRoleARN,
		NamePrefix:    st.NamePrefix,
		RolePrefix:    st.RolePrefix,

		PayloadsSkipped: opts.SkipPayloads,
	}
	for _, rc := range c.Roles {
		d.Roles = append(d.Roles, e.role(rc))
	}
	e.checkRoleClashes(d.Roles)
	d.Secrets = e.secrets(c.Secrets, e.stageReplicas())
	e.access(d, c.Secrets)
	e.checkReaderRegions(d, c.Secrets)
	sort.Slice(d.Roles, func(i, j int) bool { return d.Roles[i].Key < d.Roles[j].Key })
	sort.Slice(d.Secrets, func(i, j int) bool { return d.Secrets[i].Name < d.Secrets[j].Name })
	e.warnUnused(d)
	splitCrossAccount(d)
	if e.diags.HasErrors() {
		return nil, e.diags
	}
	d.SpecHash = c.specHash(st.Name, vars)
	for path := range e.files {
		d.PayloadFiles = append(d.PayloadFiles, path)
	}
	sort.Strings(d.PayloadFiles)
	return d, e.diags
}

// init gives e its own source functions, which report to e.
func (e *evaluator) init() {
	e.files = map[string]bool{}
	e.fns = functions(sources{dir: e.c.Dir, lookupEnv: e.lookup, mask: e.mask, read: e.readFile, got: e.gotSource})
}

// minSecretsPerCore is the size of a spec from which secrets are evaluated
// on several cores: below it, starting them costs more than it saves. A
// variable, so that a test cuts a small spec.
var minSecretsPerCore = 500

// secrets evaluates every secret block. A large spec is cut into one
// contiguous part per core, each evaluated by a copy of e with its own
// diagnostics and files; joined in order, they are those of evaluating the
// secrets one after another. At 10,000 secrets this halves evaluation's
// time on two cores.
func (e *evaluator) secrets(scs []*SecretConfig, stageReplicas []Replica) []*Secret {
	out := make([]*Secret, len(scs))
	eval := func(e *evaluator, lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = e.secret(scs[i])
			out[i].Replicas = e.secretReplicas(scs[i], stageReplicas)
		}
	}
	parts := min(runtime.GOMAXPROCS(0), len(scs)/minSecretsPerCore)
	if parts < 2 {
		eval(e, 0, len(scs))
		return out
	}
	forks := make([]*evaluator, parts)
	var (
		wg     sync.WaitGroup
		panics relay.Relay // a panic evaluating a value reaches the CLI's recover, not fd 2
	)
	for i := range forks {
		f := &evaluator{c: e.c, st: e.st, lookup: e.lookup, mask: e.mask, skipPayloads: e.skipPayloads, quietFns: e.quietFns}
		f.init()
		f.ctx = &hcl.EvalContext{Variables: e.ctx.Variables, Functions: f.fns}
		forks[i] = f
		wg.Go(func() {
			defer panics.Catch()
			eval(f, i*len(scs)/parts, (i+1)*len(scs)/parts)
		})
	}
	wg.Wait()
	panics.Rethrow()
	for _, f := range forks {
		e.diags = append(e.diags, f.diags...)
		maps.Copy(e.files, f.files)
	}
	return out
}

// serialized returns fn guarded by a mutex of its own.
func serialized(fn func(string) (string, bool)) func(string) (string, bool) {
	var mu sync.Mutex
	return func(name string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return fn(name)
	}
}

// variables resolves every declared variable: -var over SECRETBOOT_VAR_x
// over the stage's vars over the default.
func (e *evaluator) variables(cli map[string]string, lookup func(string) (string, bool)) map[string]cty.Value {
	decl := map[string]*VariableConfig{}
	vals := map[string]cty.Value{}
	for _, v := range e.c.Variables {
		decl[v.Name] = v
		if !v.Required() {
			vals[v.Name] = v.Default
		}
	}
	if e.st.Vars != nil {
		e.stageVars(decl, vals)
	}
	for _, v := range e.c.Variables {
		if raw, ok := lookup(envVarPrefix + v.Name); ok {
			vals[v.Name] = e.parseRaw(v, raw, envVarPrefix+v.Name)
		}
	}
	names := make([]string, 0, len(cli))
	for k := range cli {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, ok := decl[k]
		if !ok {
			// The name is not echoed: a payload pasted as --var "$TOKEN"
			// parses as a name when it ends in base64's "=" padding.
			e.diags = append(e.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Undeclared variable",
				Detail:   "A --var names a variable the spec does not declare (the name is not shown: the argument may hold a payload). " + declaredHint(decl, k),
			})
			continue
		}
		vals[k] = e.parseRaw(v, cli[k], "-var "+k)
	}
	for _, v := range e.c.Variables {
		if _, ok := vals[v.Name]; !ok && v.Name != "stage" {
			e.diags = append(e.diags, errDiag(v.DeclRange, "Missing required variable",
				"var.%s has no default and stage %q does not set it. Set it in the stage's vars, with -var %s=… or with %s%s.",
				v.Name, e.st.Name, v.Name, envVarPrefix, v.Name))
			vals[v.Name] = cty.UnknownVal(v.Type) // keeps later references from piling up errors
		}
	}
	vals["stage"] = cty.StringVal(e.st.Name)
	return vals
}

// stageVars evaluates a stage's vars object. Its values may use env and
// file; they keep their sensitive marks.
func (e *evaluator) stageVars(decl map[string]*VariableConfig, vals map[string]cty.Value) {
	pairs, ds := hcl.ExprMap(e.st.Vars)
	if ds.HasErrors() {
		e.diags = append(e.diags, errDiag(e.st.Vars.Range(), "Invalid stage vars",
			"vars must be an object such as { db_host = \"db.internal\" }."))
		return
	}
	ctx := &hcl.EvalContext{Functions: e.fns}
	for _, kv := range pairs {
		kval, ds := evalExpr(kv.Key, nil, false)
		if ds.HasErrors() || kval.Type() != cty.String || kval.IsNull() || kval.IsMarked() {
			e.diags = append(e.diags, errDiag(kv.Key.Range(), "Invalid variable name", "A key of vars must be a variable name."))
			continue
		}
		name := kval.AsString()
		v, ok := decl[name]
		if !ok {
			e.diags = append(e.diags, errDiag(kv.Key.Range(), "Undeclared variable",
				"Stage %q sets %q, but the spec declares no variable of that name.", e.st.Name, name))
			continue
		}
		val, ds := evalExpr(kv.Value, ctx, false)
		e.diags = append(e.diags, ds...)
		e.flushNotes(kv.Value, fmt.Sprintf("var.%s of stage %q", name, e.st.Name), false)
		if ds.HasErrors() {
			vals[name] = cty.UnknownVal(v.Type)
			continue
		}
		conv, reason := convertValue(val, v.Type, touchesSensitive(kv.Value, ctx))
		if reason != "" {
			e.diags = append(e.diags, errDiag(kv.Value.Range(), "Invalid value for variable",
				"The value for var.%s does not match its type, %s: %s.", name, v.Type.FriendlyNameForConstraint(), reason))
			vals[name] = cty.UnknownVal(v.Type)
			continue
		}
		vals[name] = conv
	}
}

// parseRaw converts a string from -var or the environment to the declared
// type: strings stay as they are, other types are parsed as HCL constants.
// Diagnostics never quote the raw text, not even the keys or element types
// that a conversion error names. A value that does not convert
// comes back unknown, so that references to it raise no further errors.
func (e *evaluator) parseRaw(v *VariableConfig, raw, source string) cty.Value {
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw)
	}
	fail := func(reason string) cty.Value {
		e.diags = append(e.diags, errDiag(v.DeclRange, "Invalid value for variable",
			"%s: the value is not a valid %s (%s).", source, v.Type.FriendlyNameForConstraint(), reason))
		return cty.UnknownVal(v.Type)
	}
	expr, ds := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if ds.HasErrors() {
		return fail("it does not parse as an HCL expression")
	}
	val, ds := evalExpr(expr, nil, true)
	if ds.HasErrors() {
		return fail("it is not a constant")
	}
	conv, reason := convertValue(val, v.Type, true)
	if reason != "" {
		return fail("it does not convert to that type; the details are hidden so that the value is not echoed")
	}
	return conv
}

func (e *evaluator) role(rc *RoleConfig) *Role {
	r := &Role{Key: rc.Name, DeclRange: rc.DeclRange}
	if attr, ok := rc.attrs["external"]; ok {
		arn, ok := e.str(attr)
		if !ok {
			return r // null, unresolved or reported already
		}
		m := roleARNRe.FindStringSubmatch(arn)
		if m == nil {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid role ARN",
				"external must be the ARN of an IAM role, such as arn:aws:iam::123456789012:role/name."))
			return r
		}
		r.External, r.Name = arn, m[2]
		r.CrossAccount = m[1] != e.st.account() && e.st.account() != ""
		e.roleRegions(rc, r)
		return r
	}
	r.Name = e.st.RolePrefix + rc.Name
	r.Workloads = e.workloads(rc)
	if len(rc.Workloads) == 0 {
		r.Services = []string{"ec2.amazonaws.com"}
	}
	if attr, ok := rc.attrs["service"]; ok {
		r.Services = e.strList(attr)
		if len(r.Services) == 0 {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Missing service", "A managed role needs at least one trusted service principal."))
		}
		sort.Strings(r.Services)
		for i, s := range r.Services {
			if !serviceRe.MatchString(s) {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid service principal",
					"%q is not a service principal such as ec2.amazonaws.com.", s))
			} else if i > 0 && r.Services[i-1] == s {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Duplicate service principal", "%q is listed twice.", s))
			}
		}
	}
	ec2 := false
	for _, s := range r.Services {
		ec2 = ec2 || s == "ec2.amazonaws.com"
	}
	e.diags = append(e.diags, checkRoleName(r.Name, ec2, rc.DeclRange)...)
	r.InstanceProfile = ec2
	if attr, ok := rc.attrs["instance_profile"]; ok {
		r.InstanceProfile = e.bool(attr, ec2)
		if r.InstanceProfile && len(rc.Workloads) > 0 {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Instance profile for a workload role",
				"Role %q is assumed by %s workloads, not EC2 instances; drop instance_profile.", rc.Name, rc.Workloads[0].Kind))
		} else if r.InstanceProfile && !ec2 {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Instance profile without EC2",
				"An instance profile lets EC2 instances use the role; add ec2.amazonaws.com to service or drop instance_profile."))
		}
	}
	if attr, ok := rc.attrs["description"]; ok {
		r.Description, _ = e.str(attr)
		if len(r.Description) > maxRoleDescription {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Description too long",
				"A role description has at most %d characters; this one has %d.", maxRoleDescription, len(r.Description)))
		}
	}
	if attr, ok := rc.attrs["permissions_boundary"]; ok {
		var ok bool
		if r.PermissionsBoundary, ok = e.str(attr); ok && !policyARNRe.MatchString(r.PermissionsBoundary) {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid policy ARN",
				"permissions_boundary must be a managed policy ARN, such as arn:aws:iam::123456789012:policy/boundary."))
		} else if ok && r.Managed() {
			e.diags = append(e.diags, checkRoleBoundary(r.PermissionsBoundary, e.c.Project, e.st, attr.Expr.Range())...)
		}
	}
	if attr, ok := rc.attrs["tags"]; ok {
		r.Tags = e.strMap(attr)
		e.diags = append(e.diags, checkTags(r.Tags, attr.Expr.Range())...)
	}
	if len(r.Workloads) > 0 {
		e.diags = append(e.diags, checkTrustSize(r)...)
	}
	e.roleRegions(rc, r)
	return r
}

// checkRoleClashes reports role names that IAM would treat as equal: names
// are unique per account ignoring case.
func (e *evaluator) checkRoleClashes(roles []*Role) {
	seen := map[string]*Role{}
	for _, r := range roles {
		if r.Name == "" {
			continue
		}
		if !r.Managed() && !strings.Contains(r.External, ":"+e.st.AccountID+":") {
			continue
		}
		k := strings.ToLower(r.Name)
		if prev, ok := seen[k]; ok {
			e.diags = append(e.diags, errDiag(r.DeclRange, "Role name clash",
				"Roles %q and %q both become the IAM role %q; IAM role names are unique ignoring case.", prev.Key, r.Key, r.Name))
			continue
		}
		seen[k] = r
	}
}

func (e *evaluator) secret(sc *SecretConfig) *Secret {
	s := &Secret{Key: sc.Name, Name: e.st.NamePrefix + sc.Name, RecoveryWindowDays: maxRecoveryWindowDays, DeclRange: sc.DeclRange}
	s.ValueOwner = sc.ValueOwner
	e.diags = append(e.diags, checkSecretName(s.Name, sc.DeclRange)...)
	if attr, ok := sc.attrs["description"]; ok {
		s.Description, _ = e.str(attr)
		if len(s.Description) > maxSecretDescription {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Description too long",
				"A secret description has at most %d characters; this one has %d.", maxSecretDescription, len(s.Description)))
		}
	}
	describeAll := false
	if sc.DescribeAll != nil {
		describeAll = e.bool(&hcl.Attribute{Name: "describe", Expr: sc.DescribeAll}, false)
	}
	describe := map[string]bool{}
	for _, ref := range sc.DescribeRefs {
		describe[ref.Role] = true
	}
	for _, ref := range sc.Readers {
		s.Readers = append(s.Readers, Reader{Role: ref.Role, Describe: describeAll || describe[ref.Role]})
	}
	sort.Slice(s.Readers, func(i, j int) bool { return s.Readers[i].Role < s.Readers[j].Role })
	if attr, ok := sc.attrs["kms_key_arn"]; ok {
		var ok bool
		s.KMSKeyARN, ok = e.str(attr)
		m := kmsKeyARNRe.FindStringSubmatch(s.KMSKeyARN)
		switch {
		case !ok:
		case m == nil:
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid KMS key ARN",
				"kms_key_arn must be a key ARN such as arn:aws:kms:us-east-1:123456789012:key/<id>; aliases cannot scope the kms:Decrypt grant."))
		case m[1] != e.st.Region:
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "KMS key in another region",
				"The key is in %s but stage %q is in %s; Secrets Manager needs a key in the secret's region.", m[1], e.st.Name, e.st.Region))
		}
	}
	if attr, ok := sc.attrs["recovery_window_days"]; ok {
		if n, ok := e.int(attr); ok {
			if n < minRecoveryWindowDays || n > maxRecoveryWindowDays {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid recovery window",
					"recovery_window_days must be a whole number from %d to %d.", minRecoveryWindowDays, maxRecoveryWindowDays))
			}
			s.RecoveryWindowDays = n
		}
	}
	if attr, ok := sc.attrs["tags"]; ok {
		s.Tags = e.strMap(attr)
		e.diags = append(e.diags, checkTags(s.Tags, attr.Expr.Range())...)
	}
	s.Payload = e.payload(sc)
	if sc.Rotation != nil {
		s.Rotation = e.rotation(sc)
		s.ValueOwner = ValueOwnerRotation
		if attr, ok := sc.attrs["tags"]; ok && len(s.Tags) > maxRotatedUserTags {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Too many tags",
				"%d tags given; a rotated secret takes at most %d: secretboot adds two more to it (the rotation it declares and the mark that proves the secret is the stage's once rotations replace secretboot's versions).", len(s.Tags), maxRotatedUserTags))
		}
	}
	return s
}

// warnUnused reports roles that no secret names and secrets nobody reads.
func (e *evaluator) warnUnused(d *Desired) {
	named := map[string]bool{}
	for _, s := range d.Secrets {
		for _, r := range s.Readers {
			named[r.Role] = true
		}
		if s.Rotation != nil && s.Rotation.Rotator != "" {
			named[s.Rotation.Rotator] = true
		}
		if len(s.Readers) == 0 {
			e.diags = append(e.diags, warnDiag(s.DeclRange, "Secret without readers",
				"No role may read %s; add readers = [role.…] unless another tool grants access.", s.Name))
		}
	}
	for _, r := range d.Roles {
		if !named[r.Key] {
			e.diags = append(e.diags, warnDiag(r.DeclRange, "Unused role",
				"No secret names role.%s as a reader or rotator, so it gets no policy.", r.Key))
		}
	}
	e.warnRotatorReads(d)
}

// value evaluates an attribute of a non-payload setting: sensitive values
// are refused, because these settings are shown in plans.
func (e *evaluator) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if e.undeclaredVars(attr.Expr) {
		return cty.NilVal, false
	}
	v, ds := evalExpr(attr.Expr, e.ctx, false)
	e.diags = append(e.diags, ds...)
	e.notes = nil // a sensitive value is an error here anyway
	if ds.HasErrors() {
		return cty.NilVal, false
	}
	if isSensitive(v) {
		e.diags = append(e.diags, sensitiveNotAllowed(attr))
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, false // an unresolved variable, reported already
	}
	conv, reason := convertValue(v, ty, false)
	if reason != "" {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Incorrect attribute value type",
			"%s: %s.", attr.Name, reason))
		return cty.NilVal, false
	}
	if conv.IsNull() {
		return cty.NilVal, false
	}
	return conv, true
}

// undeclaredVars reports references to variables that the spec does not
// declare. HCL reports them too, but where the expression touches a
// sensitive value its message is hidden, and a misspelt name is the
// commonest mistake in a payload expression.
func (e *evaluator) undeclaredVars(expr hcl.Expression) bool {
	declared := e.ctx.Variables["var"].Type()
	found := false
	for _, t := range expr.Variables() {
		if t.RootName() != "var" || len(t) < 2 {
			continue
		}
		if step, ok := t[1].(hcl.TraverseAttr); ok && !declared.HasAttribute(step.Name) {
			names := make([]string, 0, len(declared.AttributeTypes()))
			for n := range declared.AttributeTypes() {
				names = append(names, n)
			}
			e.diags = append(e.diags, errDiag(t.SourceRange(), "Undeclared variable",
				"var.%s is not declared; check the spelling or declare it with a variable block.%s", step.Name, didYouMean(step.Name, names)))
			found = true
		}
	}
	return found
}

func (e *evaluator) str(attr *hcl.Attribute) (string, bool) {
	v, ok := e.value(attr, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (e *evaluator) bool(attr *hcl.Attribute, def bool) bool {
	v, ok := e.value(attr, cty.Bool)
	if !ok {
		return def
	}
	return v.True()
}

// int evaluates a whole number; a fraction or a huge number comes back as
// -1, outside every allowed range, so that the caller reports it.
func (e *evaluator) int(attr *hcl.Attribute) (int, bool) {
	v, ok := e.value(attr, cty.Number)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != 0 || n > 1<<31 || n < -(1<<31) {
		return -1, true
	}
	return int(n), true
}

func (e *evaluator) strList(attr *hcl.Attribute) []string {
	v, ok := e.value(attr, cty.List(cty.String))
	if !ok {
		return nil
	}
	var out []string
	for _, el := range v.AsValueSlice() {
		if el.IsNull() {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid list element", "%s must not contain null.", attr.Name))
			continue
		}
		out = append(out, el.AsString())
	}
	return out
}

func (e *evaluator) strMap(attr *hcl.Attribute) map[string]string {
	v, ok := e.value(attr, cty.Map(cty.String))
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, el := range v.AsValueMap() {
		if el.IsNull() {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid map value", "%s[%q] must not be null.", attr.Name, k))
			continue
		}
		out[k] = el.AsString()
	}
	return out
}

// specHash identifies the spec files, the stage and the non-sensitive
// variable values. Payloads are not part of it: the engine derives version
// tokens from them with a key instead. Files count by their names in the
// spec directory (Load reads no subdirectory), not by the path they were
// loaded from: a plan saved by one CI job with --spec ./shop is applied by
// another with --spec /checkout/shop.
func (c *Config) specHash(stage string, vars map[string]cty.Value) string {
	h := sha256.New()
	names := make([]string, 0, len(c.sources))
	for n := range c.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	field := func(b []byte) {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	for _, n := range names {
		field([]byte(filepath.Base(n)))
		field(c.sources[n])
	}
	field([]byte(stage))
	vnames := make([]string, 0, len(vars))
	for n := range vars {
		vnames = append(vnames, n)
	}
	sort.Strings(vnames)
	for _, n := range vnames {
		v := vars[n]
		field([]byte(n))
		if isSensitive(v) || !v.IsWhollyKnown() {
			field([]byte(redacted))
			continue
		}
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			b = []byte(v.Type().FriendlyName())
		}
		field(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// declaredHint lists the declared variables, and the one a misspelt name
// was probably meant to be; it names only what the spec declares.
func declaredHint(decl map[string]*VariableConfig, name string) string {
	names := make([]string, 0, len(decl))
	for n := range decl {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "The spec declares no variables."
	}
	sort.Strings(names)
	return "Declared: " + strings.Join(names, ", ") + "." + didYouMean(name, names)
}
