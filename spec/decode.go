package spec

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "project"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "stage", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "role", LabelNames: []string{"name"}},
		{Type: "secret", LabelNames: []string{"name"}},
	},
}

var stageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "region", Required: true},
		{Name: "account_id"},
		{Name: "assume_role_arn"},
		{Name: "name_prefix"},
		{Name: "role_prefix"},
		{Name: "vars"},
		{Name: "resource_policy"},
		{Name: "deployer_arn"},
		{Name: "break_glass"},
		{Name: "replicas"},
		{Name: "account_iam_read"},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
	},
}

var roleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "service"},
		{Name: "instance_profile"},
		{Name: "external"},
		{Name: "permissions_boundary"},
		{Name: "tags"},
		{Name: "regions"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: WorkloadPodIdentity}, {Type: WorkloadIRSA}, {Type: WorkloadGitHubActions}},
}

// managedOnlyRoleAttrs configure a role secretboot creates; on an external
// role they would silently do nothing.
var managedOnlyRoleAttrs = []string{"description", "service", "instance_profile", "permissions_boundary", "tags"}

// secretSchema lacks the generate block: its label is optional, which a
// BodySchema cannot express, so decodeSecretBlock reads it, and the
// rotation block with it, from the syntax tree.
var secretSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "readers"},
		{Name: "describe"},
		{Name: "value"},
		{Name: "binary"},
		{Name: "kms_key_arn"},
		{Name: "recovery_window_days"},
		{Name: "tags"},
		{Name: "allow_literal"},
		{Name: "value_owner"},
		{Name: "resource_policy"},
		{Name: "replicas"},
	},
}

var generateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "length"},
		{Name: "upper"},
		{Name: "lower"},
		{Name: "numeric"},
		{Name: "special"},
		{Name: "exclude_characters"},
	},
}

var (
	// nameLabelRe constrains project and stage names: they end up in IAM
	// role names, IAM paths, secret names and tags.
	nameLabelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRe   = regexp.MustCompile(`^[0-9]{12}$`)
	roleARNRe   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
)

// decoder decodes the root bodies of all files in phases, so that later
// phases can refer to what earlier ones declared.
type decoder struct {
	c     *Config
	diags hcl.Diagnostics
	ctx   *hcl.EvalContext // pure functions only: for constants
}

func newDecoder(c *Config) *decoder {
	fns := make(map[string]function.Function, len(pureFunctions))
	for name, f := range pureFunctions {
		fns[name] = hideSensitive(f, nil)
	}
	return &decoder{c: c, ctx: &hcl.EvalContext{Functions: fns}}
}

func (d *decoder) errorf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

func (d *decoder) decode(bodies []*hcl.BodyContent) {
	var blocks hcl.Blocks
	for _, b := range bodies {
		d.decodeProject(b.Attributes)
		blocks = append(blocks, b.Blocks...)
	}
	if d.c.ProjectRange == (hcl.Range{}) {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing project",
			Detail:   `Every spec sets the project name once, e.g. project = "shop".`,
		})
	}
	byType := map[string]hcl.Blocks{}
	for _, b := range blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}
	seen := map[string]map[string]hcl.Range{}
	unique := func(b *hcl.Block) bool {
		m := seen[b.Type]
		if m == nil {
			m = map[string]hcl.Range{}
			seen[b.Type] = m
		}
		if prev, ok := m[b.Labels[0]]; ok {
			d.errorf(b.LabelRanges[0], fmt.Sprintf("Duplicate %s block", b.Type),
				"A %s named %q was already declared at %s.", b.Type, b.Labels[0], prev)
			return false
		}
		m[b.Labels[0]] = b.DefRange
		return true
	}
	for _, b := range byType["variable"] {
		if unique(b) {
			d.c.Variables = append(d.c.Variables, d.decodeVariableBlock(b))
		}
	}
	for _, b := range byType["stage"] {
		if unique(b) {
			d.c.StageConfigs = append(d.c.StageConfigs, d.decodeStageBlock(b))
		}
	}
	for _, b := range byType["role"] {
		if unique(b) {
			d.c.Roles = append(d.c.Roles, d.decodeRoleBlock(b))
		}
	}
	roles := map[string]bool{}
	for _, r := range d.c.Roles {
		roles[r.Name] = true
	}
	for _, b := range byType["secret"] {
		if unique(b) {
			d.c.Secrets = append(d.c.Secrets, d.decodeSecretBlock(b, roles))
		}
	}
	sort.Slice(d.c.Variables, func(i, j int) bool { return d.c.Variables[i].Name < d.c.Variables[j].Name })
	sort.Slice(d.c.StageConfigs, func(i, j int) bool { return d.c.StageConfigs[i].Name < d.c.StageConfigs[j].Name })
	sort.Slice(d.c.Roles, func(i, j int) bool { return d.c.Roles[i].Name < d.c.Roles[j].Name })
	sort.Slice(d.c.Secrets, func(i, j int) bool { return d.c.Secrets[i].Name < d.c.Secrets[j].Name })
	d.validateConfig()
}

func (d *decoder) decodeProject(attrs hcl.Attributes) {
	attr, ok := attrs["project"]
	if !ok {
		return
	}
	if d.c.ProjectRange != (hcl.Range{}) {
		d.errorf(attr.NameRange, "Duplicate project attribute", "The project was already set at %s.", d.c.ProjectRange)
		return
	}
	d.c.ProjectRange = attr.Expr.Range()
	s, ok := d.constString(attr)
	if !ok {
		return
	}
	if !nameLabelRe.MatchString(s) {
		d.errorf(attr.Expr.Range(), "Invalid project name",
			"A project name has 1–32 letters, digits, '_' or '-' and starts with a letter or digit: it becomes part of role names, IAM paths and tags.")
		return
	}
	d.c.Project = s
}

// constString evaluates an attribute that must be a non-sensitive string
// constant (pure functions allowed).
func (d *decoder) constString(attr *hcl.Attribute) (string, bool) {
	v, ds := evalExpr(attr.Expr, d.ctx, false)
	d.diags = append(d.diags, ds...)
	if ds.HasErrors() {
		return "", false
	}
	s, diag := asString(v, attr)
	if diag != nil {
		d.diags = append(d.diags, diag)
		return "", false
	}
	return s, true
}

// asString converts v to a string for a non-payload attribute. Sensitive
// values are refused: everything outside payloads is shown in plans.
func asString(v cty.Value, attr *hcl.Attribute) (string, *hcl.Diagnostic) {
	if isSensitive(v) {
		return "", sensitiveNotAllowed(attr)
	}
	if v.IsNull() {
		return "", nil
	}
	if !v.IsWhollyKnown() {
		return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown value",
			Detail: fmt.Sprintf("The value of %s must be known when the spec is evaluated.", attr.Name), Subject: attr.Expr.Range().Ptr()}
	}
	s, reason := convertValue(v, cty.String, false)
	if reason != "" {
		return "", &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
			Detail: fmt.Sprintf("%s must be a string: %s.", attr.Name, reason), Subject: attr.Expr.Range().Ptr()}
	}
	return s.AsString(), nil
}

func sensitiveNotAllowed(attr *hcl.Attribute) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Sensitive value not allowed here",
		Detail: fmt.Sprintf("%s is shown in plans and policies, so it cannot come from env, file or filebase64. "+
			"Sensitive values belong in a secret's value or binary.", attr.Name),
		Subject: attr.Expr.Range().Ptr(),
	}
}

func (d *decoder) decodeVariableBlock(b *hcl.Block) *VariableConfig {
	v := &VariableConfig{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	if !hclsyntax.ValidIdentifier(v.Name) {
		d.errorf(b.LabelRanges[0], "Invalid variable name", "A variable name is an identifier: letters, digits, '_' and '-', starting with a letter.")
	}
	if v.Name == "stage" {
		d.errorf(b.LabelRanges[0], "Reserved variable name", "var.stage is set to the stage name by secretboot and cannot be declared.")
	}
	content, ds := b.Body.Content(variableSchema)
	d.diags = append(d.diags, ds...)
	if attr, ok := content.Attributes["type"]; ok {
		ty, ds := typeexpr.TypeConstraint(attr.Expr)
		d.diags = append(d.diags, ds...)
		if !ds.HasErrors() {
			v.Type = ty
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		v.Description, _ = d.constString(attr)
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, ds := evalExpr(attr.Expr, nil, false) // constants only, as in Terraform
		d.diags = append(d.diags, ds...)
		if !ds.HasErrors() {
			conv, reason := convertValue(val, v.Type, false)
			if reason != "" {
				d.errorf(attr.Expr.Range(), "Invalid default value for variable",
					"The default does not match the variable's type: %s.", reason)
			} else {
				v.Default = conv
			}
		}
	}
	return v
}

func (d *decoder) decodeStageBlock(b *hcl.Block) *StageConfig {
	s := &StageConfig{Name: b.Labels[0], DeclRange: b.DefRange}
	if !nameLabelRe.MatchString(s.Name) {
		d.errorf(b.LabelRanges[0], "Invalid stage name",
			"A stage name has 1–32 letters, digits, '_' or '-' and starts with a letter or digit: it becomes part of secret names, role names and IAM paths.")
	}
	content, ds := b.Body.Content(stageSchema)
	d.diags = append(d.diags, ds...)
	str := func(name string) (string, *hcl.Attribute) {
		attr, ok := content.Attributes[name]
		if !ok {
			return "", nil
		}
		v, _ := d.constString(attr)
		return v, attr
	}
	var attr *hcl.Attribute
	if s.Region, attr = str("region"); attr != nil && !regionRe.MatchString(s.Region) {
		d.errorf(attr.Expr.Range(), "Invalid region", "%q is not an AWS region name such as us-east-1.", s.Region)
	}
	if s.AccountID, attr = str("account_id"); attr != nil && !accountRe.MatchString(s.AccountID) {
		d.errorf(attr.Expr.Range(), "Invalid account ID", "An AWS account ID has exactly 12 digits, given as a string (quote it).")
	}
	if s.AssumeRoleARN, attr = str("assume_role_arn"); attr != nil {
		m := roleARNRe.FindStringSubmatch(s.AssumeRoleARN)
		switch {
		case m == nil:
			d.errorf(attr.Expr.Range(), "Invalid role ARN", "assume_role_arn must look like arn:aws:iam::123456789012:role/name.")
		case s.AccountID != "" && m[1] != s.AccountID:
			d.errorf(attr.Expr.Range(), "Role in another account",
				"assume_role_arn is in account %s but the stage pins account %s: apply would refuse the assumed credentials.", m[1], s.AccountID)
		}
	}
	if v, attr := str("name_prefix"); attr != nil {
		s.NamePrefix = v
		if v != "" && !secretNameRe.MatchString(v) {
			d.errorf(attr.Expr.Range(), "Invalid name prefix", "name_prefix may hold only letters, digits and /_+=.@- (Secrets Manager name rules).")
		}
	} else {
		s.NamePrefix = s.Name + "/"
	}
	if v, attr := str("role_prefix"); attr != nil {
		s.RolePrefix = v
		if v != "" && !iamNameRe.MatchString(v) {
			d.errorf(attr.Expr.Range(), "Invalid role prefix", "role_prefix may hold only letters, digits and _+=,.@- (IAM name rules).")
		}
	} else {
		s.RolePrefix = d.c.Project + "-" + s.Name + "-"
	}
	if attr, ok := content.Attributes["vars"]; ok {
		s.Vars = attr.Expr
	}
	s.access = hcl.Attributes{}
	for _, name := range []string{"resource_policy", "deployer_arn", "break_glass", "replicas", "account_iam_read"} {
		if attr, ok := content.Attributes[name]; ok {
			s.access[name] = attr
		}
	}
	return s
}

func (d *decoder) decodeRoleBlock(b *hcl.Block) *RoleConfig {
	r := &RoleConfig{Name: b.Labels[0], DeclRange: b.DefRange}
	if !hclsyntax.ValidIdentifier(r.Name) {
		d.errorf(b.LabelRanges[0], "Invalid role name",
			"A role label is an identifier (letters, digits, '_' and '-', starting with a letter) so that secrets can refer to it as role.%s.", r.Name)
	}
	content, ds := b.Body.Content(roleSchema)
	d.diags = append(d.diags, ds...)
	r.attrs = content.Attributes
	if _, ok := r.attrs["external"]; ok {
		for _, name := range managedOnlyRoleAttrs {
			if attr, ok := r.attrs[name]; ok {
				d.errorf(attr.NameRange, "Attribute not allowed for an external role",
					"Role %q is owned elsewhere (external): secretboot only attaches its read policy, so %s has no effect. Set it where the role is managed.", r.Name, name)
			}
		}
		for _, b := range content.Blocks {
			d.errorf(b.DefRange, "Block not allowed for an external role",
				"Role %q is owned elsewhere (external): secretboot does not write its trust policy, so a %s block has no effect. Set it where the role is managed.", r.Name, b.Type)
		}
		return r
	}
	d.decodeWorkloads(r, content.Blocks)
	return r
}

func (d *decoder) decodeSecretBlock(b *hcl.Block, roles map[string]bool) *SecretConfig {
	s := &SecretConfig{Name: b.Labels[0], DeclRange: b.DefRange}
	content, remain, ds := b.Body.PartialContent(secretSchema)
	d.diags = append(d.diags, ds...)
	s.attrs = content.Attributes
	if sb, ok := remain.(*hclsyntax.Body); ok {
		for name, attr := range sb.Attributes {
			if _, known := content.Attributes[name]; !known {
				d.errorf(attr.NameRange, "Unsupported argument", "An argument named %q is not expected in a secret block.%s", name, didYouMean(name, schemaNames(secretSchema)))
			}
		}
		for _, blk := range sb.Blocks {
			switch blk.Type {
			case "generate":
				d.decodeGenerateBlock(s, blk.AsHCLBlock())
			case "rotation":
				d.decodeRotationBlock(s, blk.AsHCLBlock(), roles)
			default:
				d.errorf(blk.TypeRange, "Unsupported block type", "Blocks of type %q are not expected in a secret block.%s", blk.Type, didYouMean(blk.Type, []string{"generate", "rotation"}))
			}
		}
	}
	sort.Slice(s.Generators, func(i, j int) bool { return s.Generators[i].Field < s.Generators[j].Field })

	if attr, ok := s.attrs["readers"]; ok {
		s.Readers = d.roleRefs(attr, roles)
		seen := map[string]bool{}
		for _, ref := range s.Readers {
			if seen[ref.Role] {
				d.errorf(ref.Range, "Duplicate reader", "role.%s is listed twice in readers.", ref.Role)
			}
			seen[ref.Role] = true
		}
	}
	if attr, ok := s.attrs["describe"]; ok {
		if _, ds := hcl.ExprList(attr.Expr); ds.HasErrors() {
			s.DescribeAll = attr.Expr // a bool, evaluated per stage
		} else {
			s.DescribeRefs = d.roleRefs(attr, roles)
			readers := map[string]bool{}
			for _, r := range s.Readers {
				readers[r.Role] = true
			}
			for _, ref := range s.DescribeRefs {
				if roles[ref.Role] && !readers[ref.Role] {
					d.errorf(ref.Range, "Describe role is not a reader",
						"describe grants DescribeSecret to readers only; add role.%s to readers or remove it here.", ref.Role)
				}
			}
		}
	}
	if attr, ok := s.attrs["allow_literal"]; ok {
		v, ds := evalExpr(attr.Expr, nil, false)
		d.diags = append(d.diags, ds...)
		if !ds.HasErrors() {
			if bv, reason := convertValue(v, cty.Bool, false); reason != "" || bv.IsNull() {
				d.errorf(attr.Expr.Range(), "Incorrect attribute value type", "allow_literal must be the constant true or false.")
			} else {
				s.AllowLiteral = bv.True()
			}
		}
	}

	d.decodeValueOwner(s)
	d.checkRotationOwner(s)

	_, hasValue := s.attrs["value"]
	binary, hasBinary := s.attrs["binary"]
	var whole *GenerateConfig
	for _, g := range s.Generators {
		if g.Field == "" {
			whole = g
		}
	}
	switch {
	case hasValue && hasBinary:
		d.errorf(binary.NameRange, "Conflicting payload attributes", "A secret has either value (SecretString) or binary (SecretBinary), not both.")
	case hasBinary && len(s.Generators) > 0:
		d.errorf(s.Generators[0].DeclRange, "Conflicting payload attributes", "A binary secret cannot have generate blocks; generated values are strings.")
	case whole != nil && hasValue:
		d.errorf(whole.DeclRange, "Conflicting payload attributes",
			"An unlabelled generate block makes the whole payload; remove value or label the block with a field name.")
	case whole != nil && len(s.Generators) > 1:
		d.errorf(whole.DeclRange, "Conflicting payload attributes",
			"An unlabelled generate block makes the whole payload, so it cannot be combined with labelled ones.")
	case !hasValue && !hasBinary && len(s.Generators) == 0:
		d.errorf(b.DefRange, "Missing payload", "Secret %q needs value, binary or a generate block.", s.Name)
	}
	return s
}

func (d *decoder) decodeGenerateBlock(s *SecretConfig, b *hcl.Block) {
	g := &GenerateConfig{DeclRange: b.DefRange}
	switch len(b.Labels) {
	case 0:
	case 1:
		g.Field = b.Labels[0]
		if g.Field == "" {
			d.errorf(b.LabelRanges[0], "Invalid generate field", "A generated field needs a non-empty name.")
			return
		}
	default:
		d.errorf(b.LabelRanges[1], "Extraneous label for generate", "A generate block takes at most one label: the field name.")
		return
	}
	for _, prev := range s.Generators {
		if prev.Field == g.Field {
			what := fmt.Sprintf("field %q", g.Field)
			if g.Field == "" {
				what = "the whole payload"
			}
			d.errorf(b.DefRange, "Duplicate generate block", "A generate block for %s was already declared at %s.", what, prev.DeclRange)
			return
		}
	}
	content, ds := b.Body.Content(generateSchema)
	d.diags = append(d.diags, ds...)
	g.attrs = content.Attributes
	s.Generators = append(s.Generators, g)
}

// roleRefs reads a static list of role references such as [role.web].
func (d *decoder) roleRefs(attr *hcl.Attribute, roles map[string]bool) []RoleRef {
	exprs, ds := hcl.ExprList(attr.Expr)
	if ds.HasErrors() {
		d.errorf(attr.Expr.Range(), "Invalid role list", "%s takes a list of role references, such as [role.web, role.worker].", attr.Name)
		return nil
	}
	var refs []RoleRef
	for _, e := range exprs {
		if ref, ok := d.roleRef(e, attr.Name, roles); ok {
			refs = append(refs, ref)
		}
	}
	return refs
}

// roleRef reads one static reference to a declared role, such as role.web.
func (d *decoder) roleRef(e hcl.Expression, attrName string, roles map[string]bool) (RoleRef, bool) {
	trav, ds := hcl.AbsTraversalForExpr(e)
	if ds.HasErrors() || len(trav) != 2 || trav.RootName() != "role" {
		d.errorf(e.Range(), "Invalid role reference", "%s takes references to role blocks, such as role.web.", attrName)
		return RoleRef{}, false
	}
	step, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		d.errorf(e.Range(), "Invalid role reference", "%s takes references to role blocks, such as role.web.", attrName)
		return RoleRef{}, false
	}
	if !roles[step.Name] {
		declared := make([]string, 0, len(roles))
		for r := range roles {
			declared = append(declared, r)
		}
		d.errorf(e.Range(), "Reference to undeclared role", "No role block is named %q.%s", step.Name, didYouMean(step.Name, declared))
		return RoleRef{}, false
	}
	return RoleRef{Role: step.Name, Range: e.Range()}, true
}
