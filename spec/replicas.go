package spec

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Replica is one region a secret is replicated to (Secrets Manager's
// multi-region secrets): the replica has the secret's name and ARN suffix
// in that region, is read-only, and follows every write to the primary.
type Replica struct {
	Region string
	// KMSKeyARN is the customer managed key that encrypts the replica, in
	// its region; "" for that region's aws/secretsmanager. The primary's
	// key does not carry over: a key is regional.
	KMSKeyARN string
}

// replicaAttrs are the attributes a replica's object may set.
var replicaAttrs = []string{"kms_key_arn"}

// stageReplicas evaluates the stage's default replicas, once per
// evaluation so that its problems are reported once.
func (e *evaluator) stageReplicas() []Replica {
	if attr, ok := e.st.access["replicas"]; ok {
		return e.replicas(attr)
	}
	return nil
}

// secretReplicas are the replicas of one secret: its own replicas
// attribute when set, which replaces the stage's default whole (an empty
// map opts out), else the default.
func (e *evaluator) secretReplicas(sc *SecretConfig, stage []Replica) []Replica {
	if attr, ok := sc.attrs["replicas"]; ok {
		return e.replicas(attr)
	}
	return stage
}

// replicas evaluates a replicas attribute: a map from region to an object
// holding an optional kms_key_arn. Each problem is reported at its key or
// value when the map is written out, at the attribute otherwise; the
// replicas in error are left out.
func (e *evaluator) replicas(attr *hcl.Attribute) []Replica {
	type entry struct {
		key, val hcl.Range
		region   string
		obj      cty.Value
	}
	var entries []entry
	if pairs, ds := hcl.ExprMap(attr.Expr); !ds.HasErrors() {
		for _, kv := range pairs {
			k, ok := e.value(&hcl.Attribute{Name: "replicas", Expr: kv.Key}, cty.String)
			if !ok {
				continue
			}
			v, ok := e.value(&hcl.Attribute{Name: "replicas", Expr: kv.Value}, cty.DynamicPseudoType)
			if !ok {
				v = cty.EmptyObjectVal // null: no settings
			}
			entries = append(entries, entry{key: kv.Key.Range(), val: kv.Value.Range(), region: k.AsString(), obj: v})
		}
	} else {
		v, ok := e.value(attr, cty.DynamicPseudoType)
		if !ok {
			return nil
		}
		if !v.Type().IsObjectType() && !v.Type().IsMapType() {
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid replicas",
				`replicas is a map from region to settings, such as { "us-west-2" = {}, "eu-west-1" = { kms_key_arn = "arn:aws:kms:eu-west-1:…" } }.`))
			return nil
		}
		for k, el := range v.AsValueMap() {
			entries = append(entries, entry{key: attr.Expr.Range(), val: attr.Expr.Range(), region: k, obj: el})
		}
	}
	seen := map[string]bool{}
	var out []Replica
	for _, en := range entries {
		r := Replica{Region: en.region}
		switch {
		case !regionRe.MatchString(r.Region):
			e.diags = append(e.diags, errDiag(en.key, "Invalid region", "%q is not an AWS region name such as us-west-2.", r.Region))
			continue
		case r.Region == e.st.Region:
			e.diags = append(e.diags, errDiag(en.key, "Replica in the stage's region",
				"Stage %q is in %s, where the primary secret lives; a replica goes to another region.", e.st.Name, r.Region))
			continue
		case seen[r.Region]:
			e.diags = append(e.diags, errDiag(en.key, "Duplicate replica", "%s is listed twice.", r.Region))
			continue
		}
		seen[r.Region] = true
		key, ok := e.replicaKey(en.obj, en.val, r.Region)
		if !ok {
			continue
		}
		r.KMSKeyARN = key
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// replicaKey reads a replica's settings object: kms_key_arn, a key ARN in
// the replica's region and the stage's account (when pinned).
func (e *evaluator) replicaKey(obj cty.Value, at hcl.Range, region string) (string, bool) {
	if obj.IsNull() {
		return "", true
	}
	ty := obj.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		e.diags = append(e.diags, errDiag(at, "Invalid replica settings",
			"A replica's settings are an object: {} or { kms_key_arn = \"arn:aws:kms:%s:…\" }.", region))
		return "", false
	}
	m := obj.AsValueMap()
	for name := range m {
		if !contains(replicaAttrs, name) {
			e.diags = append(e.diags, errDiag(at, "Invalid replica settings",
				"A replica takes only kms_key_arn, not %q.%s", name, didYouMean(name, replicaAttrs)))
			return "", false
		}
	}
	v, ok := m["kms_key_arn"]
	if !ok || v.IsNull() {
		return "", true
	}
	if v.Type() != cty.String {
		e.diags = append(e.diags, errDiag(at, "Invalid KMS key ARN", "kms_key_arn is a string."))
		return "", false
	}
	arn := v.AsString()
	km := kmsKeyARNRe.FindStringSubmatch(arn)
	switch {
	case km == nil:
		e.diags = append(e.diags, errDiag(at, "Invalid KMS key ARN",
			"kms_key_arn must be a key ARN such as arn:aws:kms:%s:123456789012:key/<id>; aliases cannot scope the kms:Decrypt grant.", region))
	case km[1] != region:
		e.diags = append(e.diags, errDiag(at, "KMS key in another region",
			"The key is in %s but the replica is in %s; Secrets Manager encrypts a replica with a key of its own region.", km[1], region))
	case e.st.account() != "" && km[2] != e.st.account():
		e.diags = append(e.diags, errDiag(at, "KMS key in another account",
			"The key is in account %s but stage %q is in account %s; give the replica a key of the stage's account.", km[2], e.st.Name, e.st.account()))
	default:
		return arn, true
	}
	return "", false
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// roleRegions evaluates a role's regions: the regions where it may read,
// nil for everywhere its secrets are.
func (e *evaluator) roleRegions(rc *RoleConfig, r *Role) {
	attr, ok := rc.attrs["regions"]
	if !ok {
		return
	}
	if r.CrossAccount {
		e.diags = append(e.diags, errDiag(attr.NameRange, "Regions for a cross-account reader",
			"Role %q is in another account and reads through the secret's resource policy, which Secrets Manager replicates to every replica; secretboot cannot limit it to regions.", rc.Name))
		return
	}
	list := e.strList(attr)
	if list == nil {
		e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid regions",
			"regions lists at least one region the role reads in, such as [\"us-west-2\"]; leave it out to read everywhere."))
		return
	}
	sort.Strings(list)
	for i, reg := range list {
		switch {
		case !regionRe.MatchString(reg):
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid region", "%q is not an AWS region name such as us-west-2.", reg))
			return
		case i > 0 && list[i-1] == reg:
			e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Duplicate region", "%s is listed twice in regions.", reg))
			return
		}
	}
	r.Regions = list
}

// checkReaderRegions reports a reader limited to regions where the secret
// has neither its primary nor a replica (it would read nothing), and a
// cross-account reader of a replica without a customer managed key.
func (e *evaluator) checkReaderRegions(d *Desired, secrets []*SecretConfig) {
	roles := map[string]*Role{}
	for _, r := range d.Roles {
		roles[r.Key] = r
	}
	byName := map[string]*SecretConfig{}
	for _, sc := range secrets {
		byName[sc.Name] = sc
	}
	for _, s := range d.Secrets {
		sc := byName[s.Key]
		if sc == nil {
			continue
		}
		for _, ref := range sc.Readers {
			r := roles[ref.Role]
			if r != nil && r.CrossAccount {
				for _, rep := range s.Replicas {
					if rep.KMSKeyARN == "" {
						e.diags = append(e.diags, errDiag(ref.Range, "Cross-account reader without a customer managed key",
							"role.%s is in another account, and the replica of %s in %s has no kms_key_arn: the AWS managed key cannot be shared with another account.", ref.Role, s.Name, rep.Region))
					}
				}
			}
			if r == nil || r.Regions == nil {
				continue
			}
			if len(s.ReaderRegions(e.st.Region, r)) == 0 {
				e.diags = append(e.diags, errDiag(ref.Range, "Reader outside the secret's regions",
					"role.%s reads only in %s, but %s lives in %s: the role would read nothing. Add a replica in one of its regions, or widen its regions.",
					ref.Role, strings.Join(r.Regions, ", "), s.Name, strings.Join(s.Regions(e.st.Region), ", ")))
			}
		}
	}
}

// Regions are the regions the secret lives in, sorted: primary (the
// stage's region) and each replica's.
func (s *Secret) Regions(primary string) []string {
	out := []string{primary}
	for _, r := range s.Replicas {
		out = append(out, r.Region)
	}
	sort.Strings(out)
	return out
}

// ReaderRegions are the copies of s that role r reads, each with its
// region and key, the primary (in region primary, with the secret's key)
// first: every copy when r has no regions, else those in r.Regions.
func (s *Secret) ReaderRegions(primary string, r *Role) []Replica {
	var out []Replica
	if r.Regions == nil || contains(r.Regions, primary) {
		out = append(out, Replica{Region: primary, KMSKeyARN: s.KMSKeyARN})
	}
	for _, rep := range s.Replicas {
		if r.Regions == nil || contains(r.Regions, rep.Region) {
			out = append(out, rep)
		}
	}
	return out
}
