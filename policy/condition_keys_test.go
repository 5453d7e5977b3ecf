package policy

import "testing"

// TestConditionKeys evaluates the condition keys that the deployer policy
// and the stage boundary rely on, each with the example policy of the IAM
// documentation (the condition key's page, or the service's "Actions,
// resources, and condition keys" table it links to), against a request
// that satisfies it and requests that do not.
func TestConditionKeys(t *testing.T) {
	const acct = "123456789012"
	type check struct {
		name    string
		action  string
		context map[string][]string
		want    Decision
	}
	tests := []struct {
		key    string
		policy string
		checks []check
	}{
		{
			// "Creating a role only with a given permissions boundary"
			key: "iam:PermissionsBoundary",
			policy: `{"Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy"],"Resource":"*",
				"Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::` + acct + `:policy/XCompanyBoundaries"}}}]}`,
			checks: []check{
				{"the boundary", "iam:CreateRole", map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::" + acct + ":policy/XCompanyBoundaries"}}, Allowed},
				{"another boundary", "iam:CreateRole", map[string][]string{"iam:PermissionsBoundary": {"arn:aws:iam::" + acct + ":policy/Other"}}, ImplicitDeny},
				{"no boundary", "iam:PutRolePolicy", nil, ImplicitDeny},
			},
		},
		{
			// "Allows attaching only the listed managed policies"
			key: "iam:PolicyARN",
			policy: `{"Statement":[{"Effect":"Allow","Action":["iam:AttachRolePolicy","iam:DetachRolePolicy"],"Resource":"*",
				"Condition":{"ArnEquals":{"iam:PolicyARN":["arn:aws:iam::aws:policy/AmazonGlacierFullAccess","arn:aws:iam::` + acct + `:policy/secretboot/*"]}}}]}`,
			checks: []check{
				{"a listed AWS managed policy", "iam:AttachRolePolicy", map[string][]string{"iam:PolicyARN": {"arn:aws:iam::aws:policy/AmazonGlacierFullAccess"}}, Allowed},
				{"a customer policy the pattern covers", "iam:DetachRolePolicy", map[string][]string{"iam:PolicyARN": {"arn:aws:iam::" + acct + ":policy/secretboot/shop/dev/part-1"}}, Allowed},
				{"AdministratorAccess", "iam:AttachRolePolicy", map[string][]string{"iam:PolicyARN": {"arn:aws:iam::aws:policy/AdministratorAccess"}}, ImplicitDeny},
			},
		},
		{
			// "Pass a role only to the named service"
			key: "iam:PassedToService",
			policy: `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*",
				"Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}`,
			checks: []check{
				{"to EC2", "iam:PassRole", map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}, Allowed},
				{"to Lambda", "iam:PassRole", map[string][]string{"iam:PassedToService": {"lambda.amazonaws.com"}}, ImplicitDeny},
			},
		},
		{
			// "Create resources only with the allowed tag values"
			key: "aws:RequestTag",
			policy: `{"Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*",
				"Condition":{"StringEquals":{"aws:RequestTag/environment":["preprod","production"]}}}]}`,
			checks: []check{
				{"an allowed value", "iam:CreateRole", map[string][]string{"aws:RequestTag/environment": {"preprod"}}, Allowed},
				{"another value", "iam:CreateRole", map[string][]string{"aws:RequestTag/environment": {"dev"}}, ImplicitDeny},
				{"without the tag", "iam:CreateRole", nil, ImplicitDeny},
			},
		},
		{
			// "Tag only with the listed keys": ForAllValues holds for a
			// request without tags too, which the documentation warns of.
			key: "aws:TagKeys (ForAllValues)",
			policy: `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:TagResource","Resource":"*",
				"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}]}`,
			checks: []check{
				{"listed keys", "secretsmanager:TagResource", map[string][]string{"aws:TagKeys": {"environment", "cost-center"}}, Allowed},
				{"one key not listed", "secretsmanager:TagResource", map[string][]string{"aws:TagKeys": {"environment", "owner"}}, ImplicitDeny},
				{"no keys at all", "secretsmanager:TagResource", nil, Allowed},
			},
		},
		{
			// "Deny removing the listed keys": ForAnyValue needs one match.
			key: "aws:TagKeys (ForAnyValue)",
			policy: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:UntagResource","Resource":"*",
				"Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["secretboot:project","secretboot:stage"]}}}]}`,
			checks: []check{
				{"an ownership key", "secretsmanager:UntagResource", map[string][]string{"aws:TagKeys": {"team", "secretboot:stage"}}, ExplicitDeny},
				{"other keys", "secretsmanager:UntagResource", map[string][]string{"aws:TagKeys": {"team"}}, Allowed},
				{"no keys", "secretsmanager:UntagResource", nil, Allowed},
			},
		},
		{
			// "Allow actions on resources with a given tag"
			key: "aws:ResourceTag",
			policy: `{"Statement":[{"Effect":"Allow","Action":"iam:UpdateAssumeRolePolicy","Resource":"*",
				"Condition":{"StringEquals":{"aws:ResourceTag/status":"Approved"}}}]}`,
			checks: []check{
				{"tagged", "iam:UpdateAssumeRolePolicy", map[string][]string{"aws:ResourceTag/status": {"Approved"}}, Allowed},
				{"other value", "iam:UpdateAssumeRolePolicy", map[string][]string{"aws:ResourceTag/status": {"approved"}}, ImplicitDeny},
				{"untagged", "iam:UpdateAssumeRolePolicy", nil, ImplicitDeny},
			},
		},
		{
			// Secrets Manager's "Control access to secrets using tags"
			key: "secretsmanager:ResourceTag",
			policy: `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*",
				"Condition":{"StringEquals":{"secretsmanager:ResourceTag/ServerName":"ServerABC"}}}]}`,
			checks: []check{
				{"tagged", "secretsmanager:GetSecretValue", map[string][]string{"secretsmanager:ResourceTag/ServerName": {"ServerABC"}}, Allowed},
				{"key names compare case-insensitively", "secretsmanager:GetSecretValue", map[string][]string{"SecretsManager:ResourceTag/ServerName": {"ServerABC"}}, Allowed},
				{"another server", "secretsmanager:GetSecretValue", map[string][]string{"secretsmanager:ResourceTag/ServerName": {"ServerXYZ"}}, ImplicitDeny},
			},
		},
		{
			// "Deny creating resources without a tag": Null true means absent.
			key: "Null",
			policy: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*",
				"Condition":{"Null":{"aws:RequestTag/CostCenter":"true"}}}]}`,
			checks: []check{
				{"with the tag", "secretsmanager:CreateSecret", map[string][]string{"aws:RequestTag/CostCenter": {"42"}}, Allowed},
				{"without it", "secretsmanager:CreateSecret", nil, ExplicitDeny},
			},
		},
		{
			// ArnLike's * matches across "/", so a path pattern covers
			// every deeper path too; ArnNotLike excludes them.
			key: "ArnLike / ArnNotLike",
			policy: `{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"*",
				"Condition":{"ArnLike":{"iam:PolicyARN":"arn:aws:iam::` + acct + `:policy/secretboot/shop/dev/*"},
				"ArnNotLike":{"iam:PolicyARN":"arn:aws:iam::` + acct + `:policy/secretboot/shop/dev/*/*"}}}]}`,
			checks: []check{
				{"at the path", "iam:AttachRolePolicy", map[string][]string{"iam:PolicyARN": {"arn:aws:iam::" + acct + ":policy/secretboot/shop/dev/p-1"}}, Allowed},
				{"deeper", "iam:AttachRolePolicy", map[string][]string{"iam:PolicyARN": {"arn:aws:iam::" + acct + ":policy/secretboot/shop/dev/x/p-1"}}, ImplicitDeny},
			},
		},
		{
			// StringEqualsIfExists holds when the key is absent.
			key: "StringEqualsIfExists",
			policy: `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:TagResource","Resource":"*",
				"Condition":{"StringEqualsIfExists":{"aws:RequestTag/secretboot:project":"shop"}}}]}`,
			checks: []check{
				{"same value", "secretsmanager:TagResource", map[string][]string{"aws:RequestTag/secretboot:project": {"shop"}}, Allowed},
				{"other value", "secretsmanager:TagResource", map[string][]string{"aws:RequestTag/secretboot:project": {"mine"}}, ImplicitDeny},
				{"absent", "secretsmanager:TagResource", map[string][]string{"aws:RequestTag/team": {"web"}}, Allowed},
			},
		},
		{
			// "Secrets Manager condition keys": secretsmanager:BlockPublicPolicy
			// (Bool, on PutResourcePolicy); Bool without IfExists fails
			// when the request lacks the key.
			key: "secretsmanager:BlockPublicPolicy",
			policy: `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:PutResourcePolicy","Resource":"*",
				"Condition":{"Bool":{"secretsmanager:BlockPublicPolicy":"true"}}}]}`,
			checks: []check{
				{"blocking", "secretsmanager:PutResourcePolicy", map[string][]string{"secretsmanager:BlockPublicPolicy": {"true"}}, Allowed},
				{"not blocking", "secretsmanager:PutResourcePolicy", map[string][]string{"secretsmanager:BlockPublicPolicy": {"false"}}, ImplicitDeny},
				{"absent", "secretsmanager:PutResourcePolicy", nil, ImplicitDeny},
			},
		},
	}
	for _, tt := range tests {
		doc := mustParse(t, tt.policy)
		for _, c := range tt.checks {
			t.Run(tt.key+"/"+c.name, func(t *testing.T) {
				got := Evaluate(PolicySet{Identity: []*Document{doc}}, Request{
					Principal: "arn:aws:sts::" + acct + ":assumed-role/ci/s", Action: c.action, Resource: "arn:aws:iam::" + acct + ":role/x", Context: c.context,
				})
				if got.Decision != c.want {
					t.Errorf("decision %s, want %s", got.Decision, c.want)
				}
			})
		}
	}
}

// TestBoundaryIntersects: the effective permissions of a role with a
// permissions boundary are what both its identity policies and the
// boundary allow (IAM's "Evaluating effective permissions with
// boundaries"), so "*:*" inline grants no more than the boundary.
func TestBoundaryIntersects(t *testing.T) {
	identity := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	boundary := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/*"}]}`)
	set := PolicySet{Identity: []*Document{identity}, Boundary: boundary}
	for _, c := range []struct {
		action, resource string
		want             Decision
	}{
		{"secretsmanager:GetSecretValue", secretA, Allowed},
		{"secretsmanager:PutSecretValue", secretA, ImplicitDeny},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/a-AbCdEf", ImplicitDeny},
		{"iam:CreateRole", webRole, ImplicitDeny},
	} {
		if got := Evaluate(set, Request{Principal: webSess, Action: c.action, Resource: c.resource}); got.Decision != c.want {
			t.Errorf("%s on %s: %s, want %s", c.action, c.resource, got.Decision, c.want)
		}
	}
	// The boundary alone grants nothing.
	if got := Evaluate(PolicySet{Boundary: boundary}, Request{Principal: webSess, Action: "secretsmanager:GetSecretValue", Resource: secretA}); got.Decision != ImplicitDeny {
		t.Errorf("boundary alone: %s, want %s", got.Decision, ImplicitDeny)
	}
}
