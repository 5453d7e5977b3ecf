package iam

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// adminUserID is the fixed unique ID of the sandbox admin user (an IAM user
// ID has the AIDA prefix and 17 more characters).
const adminUserID = "AIDASANDBOXADMIN00000"

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (s *Service) getCallerIdentity(_ url.Values, caller Principal) (any, error) {
	return callerIdentityResult{UserID: s.userID(caller), Account: caller.Account, Arn: caller.ARN}, nil
}

// userID is what GetCallerIdentity reports as UserId: the user ID for the
// admin, "<role ID>:<session>" for an assumed-role session.
func (s *Service) userID(p Principal) string {
	if p.Admin {
		return adminUserID
	}
	_, rest, ok := strings.Cut(p.ARN, ":assumed-role/")
	if !ok {
		return p.ARN
	}
	name, session, _ := strings.Cut(rest, "/")
	if r := s.st.Roles[strings.ToLower(name)]; r != nil {
		return r.ID + ":" + session
	}
	return name + ":" + session
}

type credentialsXML struct {
	AccessKeyID     string    `xml:"AccessKeyId"`
	SecretAccessKey string    `xml:"SecretAccessKey"`
	SessionToken    string    `xml:"SessionToken"`
	Expiration      time.Time `xml:"Expiration"`
}

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     credentialsXML     `xml:"Credentials"`
	AssumedRoleUser assumedRoleUserXML `xml:"AssumedRoleUser"`
}

func (s *Service) assumeRole(form url.Values, caller Principal) (any, error) {
	roleARN, session, err := sessionTarget(form)
	if err != nil {
		return nil, err
	}
	duration, err := sessionDuration(form)
	if err != nil {
		return nil, err
	}

	tags, err := parseTags(form, "Tags")
	if err != nil {
		return nil, err
	}

	sessionPolicies, err := s.sessionPolicies(form)
	if err != nil {
		return nil, err
	}

	denied := accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)
	r := s.roleByARN(roleARN)
	now := s.now()
	// A role that does not exist yet and one that IAM has not propagated
	// look the same to STS: AccessDenied.
	if r == nil || now.Sub(r.Created) < s.cfg.PropagationDelay || !s.trusts(r, caller, form, session, tags) {
		return nil, denied
	}
	creds, user, err := s.issueSession(r, session, duration, now, sessionPolicies)
	if err != nil {
		return nil, err
	}
	return assumeRoleResult{Credentials: creds, AssumedRoleUser: user}, nil
}

// maxSessionPolicyARNs is AssumeRole's limit on PolicyArns (API model).
const maxSessionPolicyARNs = 10

// sessionPolicies reads AssumeRole's session policies: the inline Policy
// (an identity policy of at most 2,048 characters, API model) and the
// managed policies of PolicyArns, whose default versions apply. The
// session may then do only what both its role and they allow
// (policy.PolicySet.Session).
func (s *Service) sessionPolicies(form url.Values) ([]*policy.Document, error) {
	var docs []*policy.Document
	if text, ok := form["Policy"]; ok {
		if err := checkLength("Policy", text[0], 1, 2048); err != nil {
			return nil, err
		}
		if err := checkDocument(text[0], identityPolicy); err != nil {
			return nil, err
		}
		doc, err := policy.Parse([]byte(text[0]))
		if err != nil {
			return nil, wire.NewError(http.StatusInternalServerError, "ServiceFailure", "the sandbox's policy evaluator cannot read a document IAM accepts")
		}
		docs = append(docs, doc)
	}
	arns := wire.Structs(form, "PolicyArns")
	if len(arns) > maxSessionPolicyARNs {
		return nil, validationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionPolicyARNs)
	}
	for _, m := range arns {
		arn := m.Get("arn")
		p := s.st.lookupPolicy(arn)
		if p == nil {
			return nil, malformedPolicy("Policy %s does not exist or is not attachable.", arn)
		}
		docs = append(docs, p.version(p.Default).doc)
	}
	return docs, nil
}

// sessionTarget reads the RoleArn and RoleSessionName of an AssumeRole or
// AssumeRoleWithWebIdentity request.
func sessionTarget(form url.Values) (roleARN, session string, err error) {
	if roleARN, err = required(form, "RoleArn"); err != nil {
		return "", "", err
	}
	if err := checkLength("RoleArn", roleARN, 20, 2048); err != nil {
		return "", "", err
	}
	if session, err = required(form, "RoleSessionName"); err != nil {
		return "", "", err
	}
	if err := checkLength("RoleSessionName", session, 2, 64); err != nil {
		return "", "", err
	}
	if !sessionPattern.MatchString(session) {
		return "", "", validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	return roleARN, session, nil
}

// sessionDuration reads DurationSeconds (default one hour).
func sessionDuration(form url.Values) (int, error) {
	duration, err := wire.Int(form, "DurationSeconds", 3600)
	if err != nil {
		return 0, validationError("%v", err)
	}
	if duration < 900 || duration > 43200 {
		return 0, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", duration)
	}
	return duration, nil
}

// issueSession issues the credentials of session of role r, once the role
// trusts the caller: they last duration seconds from now unless
// IssueCredentials sets their expiry itself.
func (s *Service) issueSession(r *role, session string, duration int, now time.Time, sessionPolicies []*policy.Document) (credentialsXML, assumedRoleUserXML, error) {
	if duration > r.MaxSession {
		return credentialsXML{}, assumedRoleUserXML{}, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	sessionARN := "arn:aws:sts::" + s.cfg.Account + ":assumed-role/" + r.Name + "/" + session
	creds := s.cfg.IssueCredentials(Principal{ARN: sessionARN, Account: s.cfg.Account, RoleName: r.Name, SessionPolicies: sessionPolicies})
	if creds.Expiration.IsZero() {
		creds.Expiration = now.Add(time.Duration(duration) * time.Second)
	}
	x := credentialsXML{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: creds.SessionToken, Expiration: seconds(creds.Expiration),
	}
	return x, assumedRoleUserXML{AssumedRoleID: r.ID + ":" + session, Arn: sessionARN}, nil
}

// trusts evaluates the role's trust policy as the resource policy of an
// sts:AssumeRole request by caller, who may belong to another account (the
// router checks that account's side). Sandbox convenience: the admin of
// the role's own account may also
// act as any service principal the trust policy names (ec2.amazonaws.com),
// so that tests can assume an instance role the way an instance would, and
// with session tags the way EKS Pod Identity does (pods.eks.amazonaws.com).
// Session tags are aws:RequestTag/<key> and aws:TagKeys, and need
// sts:TagSession as well.
func (s *Service) trusts(r *role, caller Principal, form url.Values, session string, tags []tag) bool {
	ctx := map[string][]string{"sts:RoleSessionName": {session}}
	if ext := form.Get("ExternalId"); ext != "" {
		ctx["sts:ExternalId"] = []string{ext}
	}
	for _, t := range tags {
		ctx["aws:RequestTag/"+t.Key] = []string{t.Value}
		ctx["aws:TagKeys"] = append(ctx["aws:TagKeys"], t.Key)
	}
	set := policy.PolicySet{Resource: r.trust}
	ask := func(principal string) policy.Decision {
		d := policy.Evaluate(set, policy.Request{Principal: principal, Action: "sts:AssumeRole", Resource: r.ARN, Context: ctx}).Decision
		if d == policy.Allowed && len(tags) > 0 {
			d = policy.Evaluate(set, policy.Request{Principal: principal, Action: "sts:TagSession", Resource: r.ARN, Context: ctx}).Decision
		}
		return d
	}
	switch ask(caller.ARN) {
	case policy.Allowed:
		return true
	case policy.ExplicitDeny:
		return false
	}
	if !caller.Admin || caller.Account != s.cfg.Account {
		return false
	}
	for _, st := range r.trust.Statement {
		if st.Principal == nil {
			continue
		}
		for _, svc := range st.Principal.Values["Service"] {
			if ask(svc) == policy.Allowed {
				return true
			}
		}
	}
	return false
}
