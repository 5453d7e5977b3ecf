package spec

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/secretboot/secretboot/internal/rotationrules"
)

// Rotation is a secret's rotation block, evaluated for a stage. Secrets
// Manager invokes the function on the schedule; the rotator owns the
// rotating fields (Fields) from the first rotation on, and secretboot keeps
// them when it writes a new version for a change of the declared fields.
type Rotation struct {
	LambdaARN string // the rotation function, in the stage's region (and account, when pinned)
	// Exactly one of AutomaticallyAfterDays and Schedule is set.
	AutomaticallyAfterDays int    // 1–1000, or 0
	Schedule               string // a rate() or cron() expression, or ""
	Window                 string // rotation window ("4h"), or "" for AWS's default; only with Schedule
	RotateImmediately      bool   // rotate when rotation is first enabled, not only on schedule
	// Rotator is the Role.Key of the role the rotation function runs as,
	// which receives the rotation policy (policy.RotationPolicy) on this
	// secret; "" when the function's role is managed elsewhere.
	Rotator string
	// Fields are the JSON fields the rotator replaces, sorted: the
	// labelled generate blocks. nil means the whole payload (an unlabelled
	// generate block, or none).
	Fields []string

	DeclRange hcl.Range
}

// RotationConfig is a secret's rotation block as loaded: the rotator is a
// static role reference, everything else is evaluated per stage.
type RotationConfig struct {
	Rotator *RoleRef

	attrs     hcl.Attributes
	DeclRange hcl.Range
}

var rotationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "lambda_arn", Required: true},
		{Name: "automatically_after_days"},
		{Name: "schedule"},
		{Name: "window"},
		{Name: "rotate_immediately"},
		{Name: "rotator"},
	},
}

// maxRotatedUserTags leaves room for secretboot's tags secretboot:rotation
// and secretboot:mark.
const maxRotatedUserTags = maxUserTags - 2

var lambdaARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):([0-9]{12}):function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$`)

func (d *decoder) decodeRotationBlock(s *SecretConfig, b *hcl.Block, roles map[string]bool) {
	if len(b.Labels) > 0 {
		d.errorf(b.LabelRanges[0], "Extraneous label for rotation", "A rotation block takes no label.")
		return
	}
	if s.Rotation != nil {
		d.errorf(b.DefRange, "Duplicate rotation block", "Secret %q already declares its rotation at %s.", s.Name, s.Rotation.DeclRange)
		return
	}
	content, ds := b.Body.Content(rotationSchema)
	d.diags = append(d.diags, ds...)
	r := &RotationConfig{attrs: content.Attributes, DeclRange: b.DefRange}
	if attr, ok := r.attrs["rotator"]; ok {
		if ref, ok := d.roleRef(attr.Expr, "rotator", roles); ok {
			r.Rotator = &ref
		}
	}
	s.Rotation = r
}

// checkRotationOwner applies the rotation block to value_owner: the
// rotator owns the rotating fields, so "secretboot" (restore the declared
// value over each rotation) contradicts it.
func (d *decoder) checkRotationOwner(s *SecretConfig) {
	if s.Rotation == nil {
		return
	}
	if attr, ok := s.attrs["value_owner"]; ok && s.ValueOwner == ValueOwnerSecretboot {
		d.errorf(attr.Expr.Range(), "Value owner contradicts rotation",
			"Secret %q declares a rotation at %s, whose rotator owns the rotating fields; value_owner = %q would undo every rotation. Remove value_owner (it defaults to %q with a rotation block).",
			s.Name, s.Rotation.DeclRange, ValueOwnerSecretboot, ValueOwnerRotation)
	}
}

// rotation evaluates a secret's rotation block for the stage.
func (e *evaluator) rotation(sc *SecretConfig) *Rotation {
	rc := sc.Rotation
	r := &Rotation{DeclRange: rc.DeclRange}
	if rc.Rotator != nil {
		r.Rotator = rc.Rotator.Role
	}
	for _, g := range sc.Generators {
		if g.Field != "" {
			r.Fields = append(r.Fields, g.Field)
		}
	}
	sort.Strings(r.Fields)

	if attr, ok := rc.attrs["lambda_arn"]; ok {
		var ok bool
		if r.LambdaARN, ok = e.str(attr); ok {
			e.diags = append(e.diags, checkLambdaARN(r.LambdaARN, e.st, attr.Expr.Range())...)
		}
	}
	days, hasDays := rc.attrs["automatically_after_days"]
	sched, hasSched := rc.attrs["schedule"]
	// The schedule the window is checked against; the zero Schedule when
	// there is none or it was refused, which checks the window alone.
	var schedule rotationrules.Schedule
	switch {
	case hasDays && hasSched:
		e.diags = append(e.diags, errDiag(sched.NameRange, "Conflicting rotation schedules",
			"A rotation has either automatically_after_days or schedule, not both (RotateSecret takes one)."))
	case !hasDays && !hasSched:
		e.diags = append(e.diags, errDiag(rc.DeclRange, "Missing rotation schedule",
			`A rotation needs automatically_after_days (1–1000) or schedule ("rate(30 days)", "cron(0 4 ? * SUN *)").`))
	case hasDays:
		if n, ok := e.int(days); ok {
			var err error
			if schedule, err = rotationrules.AfterDays(int64(n)); err != nil {
				e.diags = append(e.diags, errDiag(days.Expr.Range(), "Invalid rotation interval", "%s", err))
			} else {
				r.AutomaticallyAfterDays = n
			}
		}
	default:
		if s, ok := e.str(sched); ok {
			r.Schedule = s
			var err error
			if schedule, err = rotationrules.Parse(s); err != nil {
				e.diags = append(e.diags, errDiag(sched.Expr.Range(), "Invalid rotation schedule", "%s", err))
			}
		}
	}
	if attr, ok := rc.attrs["window"]; ok {
		if w, ok := e.str(attr); ok {
			r.Window = w
			if err := schedule.CheckWindow(w); err != nil {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid rotation window", "%s", windowDetail(err)))
			}
		}
	}
	if attr, ok := rc.attrs["rotate_immediately"]; ok {
		r.RotateImmediately = e.bool(attr, false)
	}
	return r
}

// windowDetail says what a refused window breaks; for a window with
// automatically_after_days, the schedule to write instead.
func windowDetail(err error) string {
	var re *rotationrules.Error
	if !errors.As(err, &re) || re.Kind != rotationrules.WindowWithoutSchedule {
		return err.Error()
	}
	d := fmt.Sprintf("A window opens according to a schedule expression, and Secrets Manager takes no window with automatically_after_days (API reference, RotationRulesType): write schedule = %q in place of automatically_after_days = %d",
		rotationrules.RateOfDays(re.Days), re.Days)
	if re.Days > rotationrules.MaxRateDays {
		d += fmt.Sprintf(", the longest rate() (%d days at most)", rotationrules.MaxRateDays)
	}
	return d + "."
}

func checkLambdaARN(arn string, st *StageConfig, subject hcl.Range) hcl.Diagnostics {
	m := lambdaARNRe.FindStringSubmatch(arn)
	switch {
	case m == nil:
		return hcl.Diagnostics{errDiag(subject, "Invalid rotation function ARN",
			"lambda_arn must be a Lambda function ARN such as arn:aws:lambda:%s:123456789012:function:rotate-db.", st.Region)}
	case m[1] != st.Region:
		return hcl.Diagnostics{errDiag(subject, "Rotation function in another region",
			"The function is in %s but stage %q is in %s; Secrets Manager invokes a rotation function of the secret's region.", m[1], st.Name, st.Region)}
	case st.AccountID != "" && m[2] != st.AccountID:
		return hcl.Diagnostics{errDiag(subject, "Rotation function in another account",
			"The function is in account %s but stage %q pins account %s.", m[2], st.Name, st.AccountID)}
	}
	return nil
}

// warnRotatorReads shows a rotator that also reads secrets it does not
// rotate: allowed, but the rotation function's code can then read them
// too, which a reviewer should see.
func (e *evaluator) warnRotatorReads(d *Desired) {
	rotates := map[string]map[string]bool{} // role → keys of the secrets it rotates
	for _, s := range d.Secrets {
		if s.Rotation != nil && s.Rotation.Rotator != "" {
			if rotates[s.Rotation.Rotator] == nil {
				rotates[s.Rotation.Rotator] = map[string]bool{}
			}
			rotates[s.Rotation.Rotator][s.Key] = true
		}
	}
	for _, sc := range e.c.Secrets {
		if sc.Rotation == nil || sc.Rotation.Rotator == nil {
			continue
		}
		ref := sc.Rotation.Rotator
		var others []string
		for _, s := range d.Secrets {
			for _, r := range s.Readers {
				if r.Role == ref.Role && !rotates[ref.Role][s.Key] {
					others = append(others, s.Name)
				}
			}
		}
		if len(others) > 0 {
			e.diags = append(e.diags, warnDiag(ref.Range, "Rotator reads other secrets",
				"role.%s rotates %s and also reads %s: the rotation function's code can read them too. Give the function a role of its own unless that is intended.",
				ref.Role, e.st.NamePrefix+sc.Name, strings.Join(others, ", ")))
		}
	}
}
