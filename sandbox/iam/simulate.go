package iam

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// simulation is the input of SimulatePrincipalPolicy and
// SimulateCustomPolicy once resolved to documents.
type simulation struct {
	identity []identitySource
	boundary *identitySource
	resource *policy.Document
	caller   string
}

type statementXML struct {
	SourcePolicyID   string `xml:"SourcePolicyId"`
	SourcePolicyType string `xml:"SourcePolicyType"`
}

type boundaryDetailXML struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

// evaluationResultXML is one action's result. IAM answers once per action,
// whatever the number of resources: the top-level decision is the most
// restrictive one, and ResourceSpecificResults holds the decision per
// resource (it used to answer once per action and resource).
type evaluationResultXML struct {
	EvalActionName                    string              `xml:"EvalActionName"`
	EvalResourceName                  string              `xml:"EvalResourceName,omitempty"`
	EvalDecision                      string              `xml:"EvalDecision"`
	MatchedStatements                 []statementXML      `xml:"MatchedStatements>member"`
	PermissionsBoundaryDecisionDetail *boundaryDetailXML  `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
	ResourceSpecificResults           []resourceResultXML `xml:"ResourceSpecificResults>member"`
}

type resourceResultXML struct {
	EvalResourceName                  string             `xml:"EvalResourceName"`
	EvalResourceDecision              string             `xml:"EvalResourceDecision"`
	MatchedStatements                 []statementXML     `xml:"MatchedStatements>member"`
	PermissionsBoundaryDecisionDetail *boundaryDetailXML `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
}

type simulateResult struct {
	EvaluationResults []evaluationResultXML `xml:"EvaluationResults>member"`
	page
}

// inputDocuments parses a list parameter of policy documents, labelling
// each as IAM does ("PolicyInputList.1"). Unparsable input is InvalidInput:
// the simulation APIs do not model MalformedPolicyDocument.
func inputDocuments(form url.Values, field string) ([]identitySource, error) {
	var out []identitySource
	for i, text := range wire.List(form, field) {
		id := field + "." + strconv.Itoa(i+1)
		d, err := policy.Parse([]byte(text))
		if err != nil {
			return nil, invalidInput("%s: syntax errors in policy: %v", id, err)
		}
		out = append(out, identitySource{id: id, typ: "none", doc: d})
	}
	return out, nil
}

// readSimulationInputs reads the parameters both simulation APIs share.
func (sim *simulation) readInputs(form url.Values) error {
	boundaries, err := inputDocuments(form, "PermissionsBoundaryPolicyInputList")
	if err != nil {
		return err
	}
	if len(boundaries) > 0 {
		// The evaluator takes one boundary; several given boundaries are
		// merged, so any of them can allow.
		merged := &policy.Document{Version: "2012-10-17"}
		for _, b := range boundaries {
			merged.Statement = append(merged.Statement, b.doc.Statement...)
		}
		sim.boundary = &identitySource{id: boundaries[0].id, typ: "none", doc: merged}
	}
	if text := form.Get("ResourcePolicy"); text != "" {
		d, err := policy.Parse([]byte(text))
		if err != nil {
			return invalidInput("ResourcePolicy: syntax errors in policy: %v", err)
		}
		sim.resource = d
	}
	if c := form.Get("CallerArn"); c != "" {
		sim.caller = c
	}
	return nil
}

func (s *Service) simulatePrincipalPolicy(form url.Values, _ Principal) (any, error) {
	arn, err := policyARN(form, "PolicySourceArn")
	if err != nil {
		return nil, err
	}
	r := s.roleByARN(arn)
	if r == nil {
		return nil, noSuchEntity("The role with ARN %s cannot be found; the sandbox simulates roles only.", arn)
	}
	sim := simulation{identity: s.st.identitySources(r), caller: arn}
	if b := s.st.boundaryOf(r); b != nil {
		p := s.st.lookupPolicy(r.Boundary)
		sim.boundary = &identitySource{id: p.Name, typ: "user-managed", doc: b}
		if p.awsManaged {
			sim.boundary.typ = "aws-managed"
		}
	}
	extra, err := inputDocuments(form, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	sim.identity = append(sim.identity, extra...)
	if err := sim.readInputs(form); err != nil {
		return nil, err
	}
	return sim.run(form)
}

func (s *Service) simulateCustomPolicy(form url.Values, _ Principal) (any, error) {
	if _, err := required(form, "PolicyInputList.member.1"); err != nil {
		return nil, validationError("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
	}
	var sim simulation
	var err error
	if sim.identity, err = inputDocuments(form, "PolicyInputList"); err != nil {
		return nil, err
	}
	if err := sim.readInputs(form); err != nil {
		return nil, err
	}
	if sim.resource != nil && sim.caller == "" {
		return nil, invalidInput("CallerArn must be specified when a ResourcePolicy is specified.")
	}
	return sim.run(form)
}

// run evaluates every action on every resource, in request order.
func (sim *simulation) run(form url.Values) (any, error) {
	actions := wire.List(form, "ActionNames")
	if len(actions) == 0 {
		return nil, validationError("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := wire.List(form, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	ctx, err := readContext(form)
	if err != nil {
		return nil, err
	}
	set := policy.PolicySet{Resource: sim.resource}
	for _, src := range sim.identity {
		set.Identity = append(set.Identity, src.doc)
	}
	if sim.boundary != nil {
		set.Boundary = sim.boundary.doc
	}
	var results []evaluationResultXML
	for _, action := range actions {
		x := evaluationResultXML{EvalActionName: action}
		if len(resources) == 1 {
			x.EvalResourceName = resources[0]
		}
		for i, resource := range resources {
			r := sim.evaluate(set, policy.Request{Principal: sim.caller, Action: action, Resource: resource, Context: ctx})
			x.ResourceSpecificResults = append(x.ResourceSpecificResults, r)
			if i == 0 || restrictiveness[r.EvalResourceDecision] > restrictiveness[x.EvalDecision] {
				x.EvalDecision, x.MatchedStatements = r.EvalResourceDecision, r.MatchedStatements
				x.PermissionsBoundaryDecisionDetail = r.PermissionsBoundaryDecisionDetail
			}
		}
		results = append(results, x)
	}
	key := func(i int) string { return fmt.Sprintf("%010d", i) }
	idx := make([]int, len(results))
	for i := range idx {
		idx[i] = i
	}
	items, p, err := paginate(form, idx, key)
	if err != nil {
		return nil, err
	}
	res := simulateResult{EvaluationResults: []evaluationResultXML{}, page: p}
	for _, i := range items {
		res.EvaluationResults = append(res.EvaluationResults, results[i])
	}
	return res, nil
}

// contextKeyTypes is the API model's ContextKeyTypeEnum.
const contextKeyTypes = "string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList"

// readContext reads ContextEntries as the request context every action and
// resource of the simulation is evaluated in. Key names are kept as given,
// since the evaluator compares them ignoring case as IAM does; the values
// of a key given twice are joined. Values are kept as strings whatever
// their ContextKeyType: each condition operator parses what it compares.
func readContext(form url.Values) (map[string][]string, error) {
	ctx := map[string][]string{}
	for i, e := range wire.Structs(form, "ContextEntries") {
		at := "contextEntries." + strconv.Itoa(i+1) + ".member."
		name := e.Get("ContextKeyName")
		if name == "" {
			return nil, invalidInput("ContextKeyName must be specified for every context entry.")
		}
		if err := checkLength(at+"contextKeyName", name, 5, 256); err != nil {
			return nil, err
		}
		if t, ok := e["ContextKeyType"]; ok && !slices.Contains(strings.Split(contextKeyTypes, ", "), t[0]) {
			return nil, validationError("1 validation error detected: Value '%s' at '%scontextKeyType' failed to satisfy constraint: Member must satisfy enum value set: [%s]", t[0], at, contextKeyTypes)
		}
		ctx[name] = append(ctx[name], wire.List(e, "ContextKeyValues")...)
	}
	return ctx, nil
}

// restrictiveness orders decisions for the aggregate of several resources.
var restrictiveness = map[string]int{
	string(policy.Allowed): 0, string(policy.ImplicitDeny): 1, string(policy.ExplicitDeny): 2,
}

func (sim *simulation) evaluate(set policy.PolicySet, req policy.Request) resourceResultXML {
	out := policy.Evaluate(set, req)
	x := resourceResultXML{EvalResourceName: req.Resource, EvalResourceDecision: string(out.Decision)}
	for _, m := range out.Matched {
		x.MatchedStatements = append(x.MatchedStatements, sim.source(m))
	}
	if sim.boundary != nil {
		alone := policy.Evaluate(policy.PolicySet{Identity: []*policy.Document{sim.boundary.doc}}, req)
		x.PermissionsBoundaryDecisionDetail = &boundaryDetailXML{AllowedByPermissionsBoundary: alone.Decision == policy.Allowed}
	}
	return x
}

// source names the policy a matched statement came from.
func (sim *simulation) source(m policy.MatchedStatement) statementXML {
	switch {
	case m.Source == "boundary" && sim.boundary != nil:
		return statementXML{SourcePolicyID: sim.boundary.id, SourcePolicyType: sim.boundary.typ}
	case m.Source == "resource":
		return statementXML{SourcePolicyID: "ResourcePolicy", SourcePolicyType: "resource"}
	}
	var i int
	if _, err := fmt.Sscanf(m.Source, "identity[%d]", &i); err == nil && i >= 0 && i < len(sim.identity) {
		return statementXML{SourcePolicyID: sim.identity[i].id, SourcePolicyType: sim.identity[i].typ}
	}
	return statementXML{SourcePolicyID: m.Source, SourcePolicyType: "none"}
}

// roleByARN finds a role of this account by its full ARN (path included).
func (s *Service) roleByARN(arn string) *role {
	i := strings.LastIndexByte(arn, '/')
	if i < 0 {
		return nil
	}
	r := s.st.Roles[strings.ToLower(arn[i+1:])]
	if r == nil || r.ARN != arn {
		return nil
	}
	return r
}
