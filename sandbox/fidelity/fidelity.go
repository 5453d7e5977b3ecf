// Package fidelity is a corpus of scenarios that pin how AWS answers, and a
// runner that plays them against any endpoint through the real SDK: the
// embedded sandbox (where every scenario must pass), moto, or AWS itself.
//
// A scenario is data (testdata/<service>/<Operation>.json, for the services
// secretsmanager, kms, iam and sts): a sequence of calls, each with its input
// as the API's JSON members, the outcome AWS gives (an error code, an HTTP
// status, fields of the answer) and, for the whole scenario, the source of
// that outcome: the AWS API reference, the SDK's API model, or a response
// recorded on AWS. A step may call another service than its scenario's (a
// Secrets Manager scenario disables a KMS key). Cleanup steps run at the end
// whatever happened, their outcome ignored, so that a run leaves a shared
// endpoint as it found it. In an input, a path, an expected value or
// message, {{name}} is a secret name unique to the scenario and run, {{uid}}
// the same without slashes (for IAM names and KMS aliases), {{account}} and
// {{region}} the endpoint's, {{region2}} a second region it serves, and {{x}}
// a value an earlier step saved as x. A Secrets Manager step may name the
// region it calls (a replica's).
package fidelity

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

//go:embed testdata
var corpus embed.FS

// Scenario is one documented behaviour.
type Scenario struct {
	Name   string `json:"name"`
	Source string `json:"source"` // where the expected outcome is documented or recorded
	Steps  []Step `json:"steps"`
	// Cleanup undoes what the steps created (Secrets Manager secrets are
	// force-deleted without being listed here).
	Cleanup []Step `json:"cleanup,omitempty"`

	Service string `json:"-"` // directory under testdata
	File    string `json:"-"` // file it came from, for messages
}

// Step is one call and what AWS answers to it.
type Step struct {
	Service string `json:"service,omitempty"` // "" for the scenario's own
	// Region is the region a Secrets Manager step calls, "" for the
	// endpoint's; usually {{region2}}.
	Region string          `json:"region,omitempty"`
	Op     string          `json:"op"`
	Input  json.RawMessage `json:"input"`
	// Raw sends the request without the ClientRequestToken the SDK fills
	// in, as a hand-made HTTP request would.
	Raw  bool              `json:"raw,omitempty"`
	Save map[string]string `json:"save,omitempty"` // variable → path in the answer
	Want Expect            `json:"want"`
}

// Expect is the outcome of a step. A step expects success unless Error is set.
type Expect struct {
	Error   string `json:"error,omitempty"`   // error code
	Message string `json:"message,omitempty"` // error message, checked when set
	Status  int    `json:"status,omitempty"`  // HTTP status, checked when set
	// Equal maps a path to the JSON value expected there. Lists of
	// strings compare as sets: AWS documents no order for staging labels.
	Equal   map[string]json.RawMessage `json:"equal,omitempty"`
	Len     map[string]int             `json:"len,omitempty"` // path → length of a list, map or string
	Present []string                   `json:"present,omitempty"`
	Absent  []string                   `json:"absent,omitempty"` // missing or null
}

// Services are the corpus's services, in the order LoadAll returns them.
var Services = []string{"secretsmanager", "kms", "iam", "sts"}

// LoadAll reads the whole corpus, service by service.
func LoadAll() ([]Scenario, error) {
	var out []Scenario
	for _, svc := range Services {
		sc, err := Load(svc)
		if err != nil {
			return nil, err
		}
		out = append(out, sc...)
	}
	return out, nil
}

// Load reads the corpus of one service ("secretsmanager"), sorted by file
// and position.
func Load(service string) ([]Scenario, error) {
	dir := path.Join("testdata", service)
	files, err := fs.Glob(corpus, dir+"/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Scenario
	for _, f := range files {
		b, err := corpus.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var sc []Scenario
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range sc {
			sc[i].Service, sc[i].File = service, path.Base(f)
			if err := sc[i].check(); err != nil {
				return nil, fmt.Errorf("%s: scenario %q: %w", f, sc[i].Name, err)
			}
		}
		out = append(out, sc...)
	}
	return out, nil
}

func (s *Scenario) check() error {
	switch {
	case s.Name == "":
		return errors.New("no name")
	case s.Source == "":
		return errors.New("no source: every expected outcome cites where AWS documents or showed it")
	case len(s.Steps) == 0:
		return errors.New("no steps")
	}
	for i, st := range append(slices.Clone(s.Steps), s.Cleanup...) {
		if st.Op == "" {
			return fmt.Errorf("step %d: no op", i+1)
		}
		if st.Service != "" && !slices.Contains(Services, st.Service) {
			return fmt.Errorf("step %d: unknown service %q", i+1, st.Service)
		}
		if st.Region != "" && (st.Service != "" && st.Service != "secretsmanager" || s.Service != "secretsmanager" && st.Service == "") {
			return fmt.Errorf("step %d: only Secrets Manager steps name a region", i+1)
		}
	}
	return nil
}

// Caller performs one operation: input is the operation's JSON members, raw
// asks for the request without the SDK's ClientRequestToken. It returns the
// answer as JSON.
type Caller func(ctx context.Context, op string, input []byte, raw bool) ([]byte, error)

// Callers are the Callers of the endpoint, by service.
type Callers map[string]Caller

// Target names what a run of a scenario plays against.
type Target struct {
	Name    string // unique secret name of the scenario and run, {{name}}; {{uid}} is it without slashes
	Account string // the endpoint's account, {{account}}
	Region  string // the endpoint's region, {{region}}
	// Region2 is a second region the endpoint serves, {{region2}}; a
	// scenario that needs it fails without it.
	Region2 string
}

// Run plays a scenario. It returns nil when every step had the expected
// outcome.
func Run(ctx context.Context, callers Callers, sc Scenario, t Target) error {
	vars := map[string]string{"name": t.Name, "uid": strings.ReplaceAll(t.Name, "/", "-"), "account": t.Account, "region": t.Region}
	if t.Region2 != "" {
		vars["region2"] = t.Region2
	}
	var created []string
	defer func() {
		// Leave a shared endpoint (moto, an AWS account) as it was. A
		// forced delete of a secret that is already gone succeeds.
		for _, st := range sc.Cleanup {
			_ = runStep(ctx, callers, sc.Service, st, vars)
		}
		sm := callers["secretsmanager"]
		for _, n := range created {
			body, _ := json.Marshal(map[string]any{"SecretId": n, "ForceDeleteWithoutRecovery": true})
			_, _ = sm(ctx, "DeleteSecret", body, false)
		}
	}()
	for i, st := range sc.Steps {
		if st.Op == "CreateSecret" {
			var in struct{ Name string }
			if raw, err := expand(string(st.Input), vars); err == nil && json.Unmarshal([]byte(raw), &in) == nil && in.Name != "" {
				created = append(created, in.Name)
			}
		}
		if err := runStep(ctx, callers, sc.Service, st, vars); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, st.Op, err)
		}
	}
	return nil
}

var varRE = regexp.MustCompile(`\{\{(\w+)\}\}`)

// expand replaces {{x}} by the value of x, JSON-escaped so that it can stand
// inside a JSON string.
func expand(s string, vars map[string]string) (string, error) {
	var missing string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		k := m[2 : len(m)-2]
		v, ok := vars[k]
		if !ok {
			missing = k
		}
		q, _ := json.Marshal(v)
		return string(q[1 : len(q)-1])
	})
	if missing != "" {
		return "", fmt.Errorf("{{%s}} is not set", missing)
	}
	return out, nil
}

func runStep(ctx context.Context, callers Callers, service string, st Step, vars map[string]string) error {
	if st.Service != "" {
		service = st.Service
	}
	call, ok := callers[service]
	if !ok {
		return fmt.Errorf("no caller for service %q", service)
	}
	input := "{}"
	if len(st.Input) > 0 {
		input = string(st.Input)
	}
	input, err := expand(input, vars)
	if err != nil {
		return err
	}
	if st.Region != "" {
		region, err := expand(st.Region, vars)
		if err != nil {
			return err
		}
		ctx = context.WithValue(ctx, regionKey{}, region)
	}
	answer, callErr := call(ctx, st.Op, []byte(input), st.Raw)
	w := st.Want
	code, msg, status := "", "", 200
	if callErr != nil {
		var ae smithy.APIError
		if !errors.As(callErr, &ae) {
			return fmt.Errorf("not an API error: %w", callErr)
		}
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
		var re *awshttp.ResponseError
		if errors.As(callErr, &re) {
			status = re.HTTPStatusCode()
		}
	}
	if code != w.Error {
		if code == "" {
			return fmt.Errorf("succeeded, want %s", w.Error)
		}
		if w.Error == "" {
			return fmt.Errorf("failed, want success: %w", callErr)
		}
		return fmt.Errorf("error %s, want %s", code, w.Error)
	}
	if w.Message != "" {
		want, err := expand(w.Message, vars)
		if err != nil {
			return err
		}
		if msg != want {
			return fmt.Errorf("message %q, want %q", msg, want)
		}
	}
	if w.Status != 0 && status != w.Status {
		return fmt.Errorf("HTTP status %d, want %d", status, w.Status)
	}
	if callErr != nil {
		return nil
	}
	var doc any
	if err := json.Unmarshal(answer, &doc); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return check(doc, w, st.Save, vars)
}

func check(doc any, w Expect, save, vars map[string]string) error {
	var problems []string
	at := func(p string) (any, bool) {
		p, err := expand(p, vars)
		if err != nil {
			problems = append(problems, err.Error())
			return nil, false
		}
		return lookup(doc, p)
	}
	for _, p := range sortedKeys(w.Equal) {
		raw, err := expand(string(w.Equal[p]), vars)
		if err != nil {
			return err
		}
		var want any
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			return fmt.Errorf("expected value of %s: %w", p, err)
		}
		got, _ := at(p)
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			problems = append(problems, fmt.Sprintf("%s = %s, want %s", p, show(got), raw))
		}
	}
	for _, p := range sortedKeys(w.Len) {
		got, _ := at(p)
		n := -1
		switch g := got.(type) {
		case []any:
			n = len(g)
		case map[string]any:
			n = len(g)
		case string:
			n = len(g)
		}
		if n != w.Len[p] {
			problems = append(problems, fmt.Sprintf("len(%s) = %d, want %d", p, n, w.Len[p]))
		}
	}
	for _, p := range w.Present {
		if got, ok := at(p); !ok || got == nil {
			problems = append(problems, p+" is absent, want present")
		}
	}
	for _, p := range w.Absent {
		if got, ok := at(p); ok && got != nil {
			problems = append(problems, fmt.Sprintf("%s = %s, want absent", p, show(got)))
		}
	}
	for _, k := range sortedKeys(save) {
		got, ok := at(save[k])
		s, isString := got.(string)
		if !ok || !isString {
			problems = append(problems, fmt.Sprintf("cannot save %s: %s is not a string", k, save[k]))
			continue
		}
		vars[k] = s
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// normalize sorts every list of strings in v, recursively.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		strs := make([]string, 0, len(x))
		for i, e := range x {
			out[i] = normalize(e)
			if s, ok := e.(string); ok {
				strs = append(strs, s)
			}
		}
		if len(strs) == len(x) {
			sort.Strings(strs)
			for i, s := range strs {
				out[i] = s
			}
		}
		return out
	}
	return v
}

// lookup follows a dotted path: map keys, and list indexes as numbers.
func lookup(doc any, p string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(p, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
