package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
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
	Window                 string // rotation window ("4h"), or "" for AWS's default
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

// Limits of RotationRulesType (Secrets Manager API reference).
const (
	minRotationDays  = 1
	maxRotationDays  = 1000
	minRotationHours = 4 // "You can rotate a secret as often as every four hours."
	maxWindowHours   = 24
	// maxRotatedUserTags leaves room for secretboot's tags
	// secretboot:rotation and secretboot:mark.
	maxRotatedUserTags = maxUserTags - 2
)

var (
	lambdaARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):([0-9]{12}):function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$`)
	rateRe      = regexp.MustCompile(`^rate\(([0-9]{1,6}) (hours?|days?)\)$`)
	cronRe      = regexp.MustCompile(`^cron\(([^()]*)\)$`)
	windowRe    = regexp.MustCompile(`^([0-9]{1,3})h$`)
	cronFieldRe = regexp.MustCompile(`^[0-9A-Za-z*?/,#L-]+$`)
)

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
	var interval int // hours between rotations, at least; 0 when unknown
	switch {
	case hasDays && hasSched:
		e.diags = append(e.diags, errDiag(sched.NameRange, "Conflicting rotation schedules",
			"A rotation has either automatically_after_days or schedule, not both (RotateSecret takes one)."))
	case !hasDays && !hasSched:
		e.diags = append(e.diags, errDiag(rc.DeclRange, "Missing rotation schedule",
			`A rotation needs automatically_after_days (1–1000) or schedule ("rate(30 days)", "cron(0 4 ? * SUN *)").`))
	case hasDays:
		if n, ok := e.int(days); ok {
			if n < minRotationDays || n > maxRotationDays {
				e.diags = append(e.diags, errDiag(days.Expr.Range(), "Invalid rotation interval",
					"automatically_after_days must be a whole number from %d to %d.", minRotationDays, maxRotationDays))
			} else {
				r.AutomaticallyAfterDays, interval = n, 24*n
			}
		}
	default:
		if s, ok := e.str(sched); ok {
			r.Schedule = s
			var reason string
			if interval, reason = scheduleInterval(s); reason != "" {
				e.diags = append(e.diags, errDiag(sched.Expr.Range(), "Invalid rotation schedule", "%s", reason))
			}
		}
	}
	if attr, ok := rc.attrs["window"]; ok {
		if w, ok := e.str(attr); ok {
			r.Window = w
			if reason := checkWindow(w, r.Schedule, interval); reason != "" {
				e.diags = append(e.diags, errDiag(attr.Expr.Range(), "Invalid rotation window", "%s", reason))
			}
		}
	}
	if attr, ok := rc.attrs["rotate_immediately"]; ok {
		r.RotateImmediately = e.bool(attr, false)
	}
	return r
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

// scheduleInterval checks a ScheduleExpression and returns the shortest
// time between two rotations it allows, in hours (24 for a schedule of
// days, whose window AWS closes at the end of the UTC day). AWS refuses an
// expression that rotates more often than every four hours.
func scheduleInterval(s string) (int, string) {
	if m := rateRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "day") {
			if n < minRotationDays || n > maxRotationDays {
				return 0, fmt.Sprintf("A rate in days is from %d to %d days.", minRotationDays, maxRotationDays)
			}
			return 24 * n, ""
		}
		if n < minRotationHours || n > 24*maxRotationDays {
			return 0, fmt.Sprintf("Secrets Manager rotates at most every %d hours: %s is refused.", minRotationHours, s)
		}
		return n, ""
	}
	m := cronRe.FindStringSubmatch(s)
	if m == nil {
		return 0, `schedule is a rate() or cron() expression, such as "rate(30 days)", "rate(12 hours)" or "cron(0 4 ? * SUN *)".`
	}
	fields := strings.Fields(m[1])
	if len(fields) != 6 {
		return 0, fmt.Sprintf("A cron expression has six fields (minutes hours day-of-month month day-of-week year); %q has %d.", m[1], len(fields))
	}
	for _, f := range fields {
		if !cronFieldRe.MatchString(f) {
			return 0, fmt.Sprintf("The cron field %q holds a character cron does not use.", f)
		}
	}
	if n, err := strconv.Atoi(fields[0]); err != nil || n < 0 || n > 59 {
		return 0, fmt.Sprintf("The minutes field of a rotation schedule is one minute (0–59), not %q: more than one rotation an hour is under Secrets Manager's %d hours.", fields[0], minRotationHours)
	}
	hours, reason := cronHours(fields[1])
	if reason != "" {
		return 0, reason
	}
	gap := 24 // one rotation a day at most
	for i := 1; i < len(hours); i++ {
		gap = min(gap, hours[i]-hours[i-1])
	}
	if daily := (fields[2] == "*" || fields[2] == "?") && (fields[4] == "*" || fields[4] == "?"); daily && len(hours) > 1 {
		gap = min(gap, hours[0]+24-hours[len(hours)-1]) // from the day's last rotation to the next day's first
	}
	if gap < minRotationHours {
		return 0, fmt.Sprintf("%s rotates %d hour(s) apart; Secrets Manager rotates at most every %d hours.", s, gap, minRotationHours)
	}
	return gap, ""
}

// cronHours expands a cron hours field (n, a-b, a/s, a-b/s, *, */s, and
// lists of them) to its sorted hours.
func cronHours(f string) ([]int, string) {
	set := map[int]bool{}
	bad := func() ([]int, string) {
		return nil, fmt.Sprintf("The hours field %q is not a cron hours field (0–23: n, a-b, a/step, *, or a list of them).", f)
	}
	for _, part := range strings.Split(f, ",") {
		base, step := part, 1
		if i := strings.IndexByte(part, '/'); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n < 1 || n > 23 {
				return bad()
			}
			base, step = part[:i], n
		}
		lo, hi := 0, 23
		switch {
		case base == "*":
		case strings.Contains(base, "-"):
			a, b, _ := strings.Cut(base, "-")
			var e1, e2 error
			lo, e1 = strconv.Atoi(a)
			hi, e2 = strconv.Atoi(b)
			if e1 != nil || e2 != nil || lo > hi {
				return bad()
			}
		default:
			n, err := strconv.Atoi(base)
			if err != nil {
				return bad()
			}
			lo = n
			if step == 1 {
				hi = n
			}
		}
		if lo < 0 || hi > 23 {
			return bad()
		}
		for h := lo; h <= hi; h += step {
			set[h] = true
		}
	}
	out := make([]int, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Ints(out)
	return out, ""
}

// checkWindow checks a rotation window (Duration): whole hours, at most a
// day, shorter than the time between rotations, and for a cron schedule
// starting at a fixed hour not past the end of the UTC day.
func checkWindow(w, schedule string, interval int) string {
	m := windowRe.FindStringSubmatch(w)
	if m == nil {
		return fmt.Sprintf(`window is a whole number of hours such as "4h", not %q.`, w)
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < 1 || n > maxWindowHours:
		return fmt.Sprintf("A rotation window is 1h to %dh.", maxWindowHours)
	case interval > 0 && interval < 24 && n >= interval:
		return fmt.Sprintf("The window (%s) must be shorter than the %d hours between rotations: it would run into the next rotation.", w, interval)
	}
	if c := cronRe.FindStringSubmatch(schedule); c != nil {
		fields := strings.Fields(c[1])
		if hours, reason := cronHours(fields[1]); reason == "" && len(hours) > 0 && hours[len(hours)-1]+n > 24 {
			return fmt.Sprintf("A window of %s from %02d:00 UTC runs into the next UTC day, which Secrets Manager refuses.", w, hours[len(hours)-1])
		}
	}
	return ""
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
