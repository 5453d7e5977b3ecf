package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, s string) *Document {
	t.Helper()
	d, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return d
}

const (
	secretA = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-AbCdEf"
	secretB = "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/b-GhIjKl"
	webRole = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"
	webSess = "arn:aws:sts::111111111111:assumed-role/shop-dev-web/i-0123"
)

func TestEvaluate(t *testing.T) {
	allowA := `{"Statement":[{"Sid":"ReadA","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + secretA + `"}]}`
	tests := []struct {
		name     string
		identity []string
		boundary string
		resource string
		session  []string
		req      Request
		want     Result
	}{
		{
			name:     "exact allow",
			identity: []string{allowA},
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]", Sid: "ReadA", Index: 0}}},
		},
		{
			name:     "other resource is implicitly denied",
			identity: []string{allowA},
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretB},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "other action is implicitly denied",
			identity: []string{allowA},
			req:      Request{Principal: webSess, Action: "secretsmanager:PutSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name: "no policies",
			req:  Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want: Result{Decision: ImplicitDeny},
		},
		{
			name:     "actions are case-insensitive with wildcards",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"SecretsManager:Get*Val?e","Resource":"*"}]}`},
			req:      Request{Action: "secretsmanager:getsecretvalue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]"}}},
		},
		{
			name:     "action ? needs exactly one character",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValu?","Resource":"*"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValu", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "resources are case-sensitive",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:DEV/a-AbCdEf"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "resource * crosses slashes",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:111111111111:secret:*"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]"}}},
		},
		{
			name:     "pending ARN pattern with ? matches the 6-character suffix",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-??????"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]"}}},
		},
		{
			name:     "pending ARN pattern does not match a longer name",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-??????"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-x-AbCdEf"},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "NotAction allows everything else",
			identity: []string{`{"Statement":[{"Effect":"Allow","NotAction":["secretsmanager:Delete*","iam:*"],"Resource":"*"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]"}}},
		},
		{
			name:     "NotAction excludes its actions",
			identity: []string{`{"Statement":[{"Effect":"Allow","NotAction":["secretsmanager:Delete*","iam:*"],"Resource":"*"}]}`},
			req:      Request{Action: "secretsmanager:DeleteSecret", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "NotResource allows everything else",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","NotResource":"` + secretB + `"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]"}}},
		},
		{
			name:     "NotResource excludes its resources",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","NotResource":"` + secretB + `"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretB},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name: "explicit deny beats allow across documents",
			identity: []string{
				`{"Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}`,
				`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoA","Effect":"Deny","Action":"secretsmanager:*","Resource":"` + secretA + `"}]}`,
			},
			req:  Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want: Result{Decision: ExplicitDeny, Matched: []MatchedStatement{{Source: "identity[1]", Sid: "NoA", Index: 1}}},
		},
		{
			name:     "boundary without a matching allow denies",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
			boundary: `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "boundary and identity both allow",
			identity: []string{allowA},
			boundary: `{"Statement":[{"Sid":"B","Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`,
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want: Result{Decision: Allowed, Matched: []MatchedStatement{
				{Source: "identity[0]", Sid: "ReadA"}, {Source: "boundary", Sid: "B"},
			}},
		},
		{
			name:     "boundary alone grants nothing",
			boundary: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "boundary deny is explicit",
			identity: []string{allowA},
			boundary: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"D","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ExplicitDeny, Matched: []MatchedStatement{{Source: "boundary", Sid: "D", Index: 1}}},
		},
		{
			name:     "resource policy allows the role's session",
			resource: `{"Statement":[{"Sid":"R","Effect":"Allow","Principal":{"AWS":"` + webRole + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource", Sid: "R"}}},
		},
		{
			name:     "resource policy naming another role does not apply",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/shop-dev-db"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "resource policy with account root covers the account",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: "arn:aws:iam::111111111111:user/alice", Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "resource policy with a bare account ID covers the account",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "resource policy for another account does not apply",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "resource policy wildcard principal",
			resource: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "resource policy AWS * principal",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "resource policy deny for the role beats identity allow",
			identity: []string{allowA},
			resource: `{"Statement":[{"Sid":"D","Effect":"Deny","Principal":{"AWS":"` + webRole + `"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ExplicitDeny, Matched: []MatchedStatement{{Source: "resource", Sid: "D"}}},
		},
		{
			name:     "resource policy NotPrincipal deny spares the listed principal",
			identity: []string{allowA},
			resource: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"` + webSess + `"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]", Sid: "ReadA"}}},
		},
		{
			name:     "resource policy NotPrincipal deny hits others",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
			resource: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"` + webSess + `"},"Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: "arn:aws:iam::111111111111:user/bob", Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ExplicitDeny, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "resource statement without a principal never applies",
			resource: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "trust policy: service principal may assume the role",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			req:      Request{Principal: "ec2.amazonaws.com", Action: "sts:AssumeRole", Resource: webRole},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "resource"}}},
		},
		{
			name:     "trust policy: another service may not",
			resource: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			req:      Request{Principal: "lambda.amazonaws.com", Action: "sts:AssumeRole", Resource: webRole},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "conditions must hold",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA, Context: map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "deny with a failing condition does not deny",
			identity: []string{allowA, `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: secretA, Context: map[string][]string{"aws:SecureTransport": {"true"}}},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]", Sid: "ReadA"}}},
		},
		// Session policies (IAM guide, "Session policies"): the session's
		// permissions are the intersection of the role's identity policies
		// and the session policies, which grant nothing by themselves.
		{
			name:     "a session policy limits the role's grant",
			identity: []string{`{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`},
			session:  []string{allowA},
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretB},
			want:     Result{Decision: ImplicitDeny},
		},
		{
			name:     "the intersection is allowed",
			identity: []string{`{"Statement":[{"Sid":"All","Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`},
			session:  []string{allowA},
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: Allowed, Matched: []MatchedStatement{{Source: "identity[0]", Sid: "All"}}},
		},
		{
			name:    "a session policy grants nothing by itself",
			session: []string{allowA},
			req:     Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:    Result{Decision: ImplicitDeny},
		},
		{
			name:     "a deny in a session policy denies",
			identity: []string{allowA},
			session:  []string{`{"Statement":[{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*"}]}`},
			req:      Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA},
			want:     Result{Decision: ExplicitDeny, Matched: []MatchedStatement{{Source: "session[0]", Sid: "No"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set PolicySet
			for _, s := range tt.identity {
				set.Identity = append(set.Identity, mustParse(t, s))
			}
			for _, s := range tt.session {
				set.Session = append(set.Session, mustParse(t, s))
			}
			if tt.boundary != "" {
				set.Boundary = mustParse(t, tt.boundary)
			}
			if tt.resource != "" {
				set.Resource = mustParse(t, tt.resource)
			}
			if diff := cmp.Diff(tt.want, Evaluate(set, tt.req)); diff != "" {
				t.Errorf("Evaluate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateUnknownOperatorFailsSafe(t *testing.T) {
	cond := Conditions{"StringSortOf": {"k": {"v"}}}
	set := PolicySet{Identity: []*Document{
		{Statement: []Statement{{Effect: Allow, Action: StringList{"*"}, Resource: StringList{"*"}, Condition: cond}}},
	}}
	req := Request{Action: "a:b", Resource: "r"}
	if got := Evaluate(set, req).Decision; got != ImplicitDeny {
		t.Errorf("allow with unknown operator: %s, want %s", got, ImplicitDeny)
	}
	set.Identity = append(set.Identity, &Document{Statement: []Statement{{Effect: Allow, Action: StringList{"*"}, Resource: StringList{"*"}}}})
	set.Identity[0].Statement[0].Effect = Deny
	if got := Evaluate(set, req).Decision; got != ExplicitDeny {
		t.Errorf("deny with unknown operator: %s, want %s", got, ExplicitDeny)
	}
}

func TestConditions(t *testing.T) {
	type ctx = map[string][]string
	tests := []struct {
		name string
		cond string // the Condition element
		ctx  ctx
		want bool
	}{
		{"StringEquals match", `{"StringEquals":{"k":"v"}}`, ctx{"k": {"v"}}, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"k":"v"}}`, ctx{"k": {"V"}}, false},
		{"StringEquals values are ORed", `{"StringEquals":{"k":["a","v"]}}`, ctx{"k": {"v"}}, true},
		{"keys are ANDed", `{"StringEquals":{"k":"v","j":"w"}}`, ctx{"k": {"v"}, "j": {"x"}}, false},
		{"operators are ANDed", `{"StringEquals":{"k":"v"},"StringLike":{"j":"w*"}}`, ctx{"k": {"v"}, "j": {"wx"}}, true},
		{"operators are ANDed, one fails", `{"StringEquals":{"k":"v"},"StringLike":{"j":"w*"}}`, ctx{"k": {"v"}, "j": {"xw"}}, false},
		{"key names are case-insensitive", `{"StringEquals":{"AWS:SourceVpc":"vpc-1"}}`, ctx{"aws:sourcevpc": {"vpc-1"}}, true},
		{"missing key: positive is false", `{"StringEquals":{"k":"v"}}`, ctx{}, false},
		{"missing key: negated is true", `{"StringNotEquals":{"k":"v"}}`, ctx{}, true},
		{"empty value list counts as missing", `{"StringNotEquals":{"k":"v"}}`, ctx{"k": {}}, true},
		{"StringNotEquals different", `{"StringNotEquals":{"k":"v"}}`, ctx{"k": {"w"}}, true},
		{"StringNotEquals is NOR", `{"StringNotEquals":{"k":["a","b"]}}`, ctx{"k": {"b"}}, false},
		{"StringNotEquals is NOR, none match", `{"StringNotEquals":{"k":["a","b"]}}`, ctx{"k": {"c"}}, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"k":"Value"}}`, ctx{"k": {"vALUE"}}, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"k":"Value"}}`, ctx{"k": {"vALUE"}}, false},
		{"StringLike *", `{"StringLike":{"k":"arn:*:secret:dev/*"}}`, ctx{"k": {secretA}}, true},
		{"StringLike ?", `{"StringLike":{"k":"a?c"}}`, ctx{"k": {"abc"}}, true},
		{"StringLike ? is one character", `{"StringLike":{"k":"a?c"}}`, ctx{"k": {"abbc"}}, false},
		{"StringLike is case-sensitive", `{"StringLike":{"k":"A*"}}`, ctx{"k": {"abc"}}, false},
		{"StringNotLike", `{"StringNotLike":{"k":["x*","y*"]}}`, ctx{"k": {"abc"}}, true},
		{"StringNotLike matching", `{"StringNotLike":{"k":["x*","a*"]}}`, ctx{"k": {"abc"}}, false},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"` + webRole + `"}}`, ctx{"aws:SourceArn": {webRole}}, true},
		{"ArnLike wildcard in resource part", `{"ArnLike":{"k":"arn:aws:iam::*:role/secretboot/*"}}`, ctx{"k": {webRole}}, true},
		{"ArnLike wildcard per part", `{"ArnLike":{"k":"arn:aws:*:*:111111111111:*"}}`, ctx{"k": {webRole}}, true},
		{"ArnLike account differs", `{"ArnLike":{"k":"arn:aws:iam::222222222222:*"}}`, ctx{"k": {webRole}}, false},
		{"ArnLike not an ARN", `{"ArnLike":{"k":"arn:aws:iam::*:*"}}`, ctx{"k": {"role/x"}}, false},
		{"ArnNotEquals", `{"ArnNotEquals":{"k":"` + webRole + `"}}`, ctx{"k": {webRole}}, false},
		{"ArnNotLike", `{"ArnNotLike":{"k":"arn:aws:iam::222222222222:*"}}`, ctx{"k": {webRole}}, true},
		{"Bool true", `{"Bool":{"aws:SecureTransport":true}}`, ctx{"aws:SecureTransport": {"true"}}, true},
		{"Bool ignores case", `{"Bool":{"aws:SecureTransport":"True"}}`, ctx{"aws:SecureTransport": {"true"}}, true},
		{"Bool false", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:SecureTransport": {"true"}}, false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{}, false},
		{"BinaryEquals", `{"BinaryEquals":{"k":"QmluYXJ5"}}`, ctx{"k": {"QmluYXJ5"}}, true},
		{"Null true and absent", `{"Null":{"k":"true"}}`, ctx{}, true},
		{"Null true and present", `{"Null":{"k":"true"}}`, ctx{"k": {"v"}}, false},
		{"Null false and present", `{"Null":{"k":"false"}}`, ctx{"k": {"v"}}, true},
		{"Null false and absent", `{"Null":{"k":false}}`, ctx{}, false},
		{"NumericEquals", `{"NumericEquals":{"n":10}}`, ctx{"n": {"10.0"}}, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"n":10}}`, ctx{"n": {"11"}}, true},
		{"NumericLessThan", `{"NumericLessThan":{"n":10}}`, ctx{"n": {"9"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"n":10}}`, ctx{"n": {"10"}}, false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"n":10}}`, ctx{"n": {"10"}}, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"n":10}}`, ctx{"n": {"10"}}, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"n":10}}`, ctx{"n": {"10"}}, true},
		{"Numeric not a number", `{"NumericEquals":{"n":"ten"}}`, ctx{"n": {"10"}}, false},
		{"DateLessThan ISO", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx{"aws:CurrentTime": {"2025-12-31T23:59:59Z"}}, true},
		{"DateGreaterThan epoch", `{"DateGreaterThan":{"aws:EpochTime":"1700000000"}}`, ctx{"aws:EpochTime": {"1700000001"}}, true},
		{"DateEquals date only", `{"DateEquals":{"d":"2026-01-01"}}`, ctx{"d": {"2026-01-01T00:00:00Z"}}, true},
		{"DateNotEquals", `{"DateNotEquals":{"d":"2026-01-01"}}`, ctx{"d": {"2026-01-02"}}, true},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"d":"2026-01-01T00:00Z"}}`, ctx{"d": {"2026-01-01"}}, true},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"d":"2026-01-01"}}`, ctx{"d": {"2025-01-01"}}, false},
		{"Date unparsable", `{"DateEquals":{"d":"yesterday"}}`, ctx{"d": {"yesterday"}}, false},
		{"IpAddress CIDR", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:SourceIp": {"10.1.2.3"}}, true},
		{"IpAddress single", `{"IpAddress":{"aws:SourceIp":"10.0.0.1"}}`, ctx{"aws:SourceIp": {"10.0.0.2"}}, false},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:SourceIp": {"192.168.0.1"}}, true},
		{"IfExists absent", `{"StringEqualsIfExists":{"k":"v"}}`, ctx{}, true},
		{"IfExists present and different", `{"StringEqualsIfExists":{"k":"v"}}`, ctx{"k": {"w"}}, false},
		{"negated IfExists absent", `{"StringNotEqualsIfExists":{"k":"v"}}`, ctx{}, true},
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"tags":["a","b"]}}`, ctx{"tags": {"x", "b"}}, true},
		{"ForAnyValue none match", `{"ForAnyValue:StringEquals":{"tags":["a","b"]}}`, ctx{"tags": {"x", "y"}}, false},
		{"ForAnyValue empty set", `{"ForAnyValue:StringEquals":{"tags":["a"]}}`, ctx{"tags": {}}, false},
		{"ForAnyValue missing", `{"ForAnyValue:StringEquals":{"tags":["a"]}}`, ctx{}, false},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"tags":["a"]}}`, ctx{}, true},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotEquals":{"tags":["a"]}}`, ctx{"tags": {"a", "b"}}, true},
		{"ForAllValues all match", `{"ForAllValues:StringLike":{"tags":["a*","b*"]}}`, ctx{"tags": {"ax", "bx"}}, true},
		{"ForAllValues one does not", `{"ForAllValues:StringLike":{"tags":["a*","b*"]}}`, ctx{"tags": {"ax", "cx"}}, false},
		{"ForAllValues empty set", `{"ForAllValues:StringEquals":{"tags":["a"]}}`, ctx{"tags": {}}, true},
		{"ForAllValues missing", `{"ForAllValues:StringEquals":{"tags":["a"]}}`, ctx{}, true},
		{"ForAllValues negated", `{"ForAllValues:StringNotEquals":{"tags":["a"]}}`, ctx{"tags": {"b", "c"}}, true},
		{"ForAllValues negated hit", `{"ForAllValues:StringNotEquals":{"tags":["a"]}}`, ctx{"tags": {"b", "a"}}, false},
		{"multi-valued key, single-valued positive operator: any", `{"StringEquals":{"k":"a"}}`, ctx{"k": {"b", "a"}}, true},
		{"multi-valued key, single-valued negated operator: none", `{"StringNotEquals":{"k":"a"}}`, ctx{"k": {"b", "a"}}, false},
		{"policy variables are literal", `{"StringEquals":{"k":"${aws:username}"}}`, ctx{"k": {"${aws:username}"}, "aws:username": {"bob"}}, true},
		{"kms encryption context on a pending ARN", `{"StringLike":{"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/a-??????"}}`, ctx{"kms:EncryptionContext:SecretARN": {secretA}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tt.cond+`}]}`)
			got := Evaluate(PolicySet{Identity: []*Document{d}}, Request{Action: "a:b", Resource: "r", Context: tt.ctx}).Decision == Allowed
			if got != tt.want {
				t.Errorf("condition %s with context %v = %v, want %v", tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b:c", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a**", "a", true},
		{"*a", "bba", true},
		{"?", "é", true},
		{"??", "é", false},
		{"a*?", "a", false},
		{"ab", "abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			if got := globMatch(tt.pattern, tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}
