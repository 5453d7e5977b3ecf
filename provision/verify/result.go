package verify

import (
	"github.com/secretboot/secretboot/spec"
)

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
	// CrossAccount are the unverified other sides of cross-account readers
	// (Difference.CrossAccount), kept out of Differences: they say what to
	// check in the other account and do not make the result fail.
	CrossAccount []Difference `json:"cross_account,omitempty"`
	OK           bool         `json:"ok"`
}

// NewResult compares actual with what d intends.
func NewResult(d *spec.Desired, mode Mode, actual *Matrix) *Result {
	expected := Expected(d)
	r := &Result{
		Project: d.Project, Stage: d.Stage, Mode: mode, Actions: ActionsFor(expected.Secrets),
		Roles: actual.Roles, Secrets: actual.Secrets, Cells: actual.Cells,
		Expected: []Cell{},
	}
	for _, d := range Compare(expected, actual) {
		if d.CrossAccount {
			r.CrossAccount = append(r.CrossAccount, d)
		} else {
			r.Differences = append(r.Differences, d)
		}
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
