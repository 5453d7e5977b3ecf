package iam

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/policy"
)

const (
	secretA = "arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/a-AbCdEf"
	secretB = "arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/b-GhIjKl"
)

// evalRow is the part of an EvaluationResult the tests compare.
type evalRow struct {
	Action, Resource, Decision string
	Matched                    []string // SourcePolicyType/SourcePolicyId
	Boundary                   string   // "", "allows", "denies"
}

// rows flattens results to one row per action and resource, read from
// ResourceSpecificResults as IAM callers must now do.
func rows(results []types.EvaluationResult) []evalRow {
	var out []evalRow
	for _, r := range results {
		for _, rs := range r.ResourceSpecificResults {
			row := evalRow{Action: aws.ToString(r.EvalActionName), Resource: aws.ToString(rs.EvalResourceName), Decision: string(rs.EvalResourceDecision)}
			for _, m := range rs.MatchedStatements {
				row.Matched = append(row.Matched, string(m.SourcePolicyType)+"/"+aws.ToString(m.SourcePolicyId))
			}
			if d := rs.PermissionsBoundaryDecisionDetail; d != nil {
				row.Boundary = map[bool]string{true: "allows", false: "denies"}[d.AllowedByPermissionsBoundary]
			}
			out = append(out, row)
		}
	}
	return out
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	boundary, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("only-get"), PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	denyB, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("deny-b"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"NoB","Effect":"Deny","Action":"secretsmanager:*","Resource":"` + secretB + `"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(ec2Trust), PermissionsBoundary: boundary.Policy.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("secretboot-read"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":["` + secretA + `","` + secretB + `"]}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: denyB.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	roleARN := aws.String("arn:aws:iam::000000000000:role/app/web")

	out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: roleARN,
		ActionNames:     []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"},
		ResourceArns:    []string{secretA, secretB},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []evalRow{
		{"secretsmanager:GetSecretValue", secretA, "allowed", []string{"role/secretboot-read", "user-managed/only-get"}, "allows"},
		{"secretsmanager:GetSecretValue", secretB, "explicitDeny", []string{"user-managed/deny-b"}, "allows"},
		{"secretsmanager:DescribeSecret", secretA, "implicitDeny", nil, "denies"},
		{"secretsmanager:DescribeSecret", secretB, "explicitDeny", []string{"user-managed/deny-b"}, "denies"},
		{"secretsmanager:PutSecretValue", secretA, "implicitDeny", nil, "denies"},
		{"secretsmanager:PutSecretValue", secretB, "explicitDeny", []string{"user-managed/deny-b"}, "denies"},
	}
	if diff := cmp.Diff(want, rows(out.EvaluationResults)); diff != "" {
		t.Errorf("EvaluationResults (-want +got):\n%s", diff)
	}
	// One result per action: on top, the most restrictive decision over the
	// resources, and no single resource name.
	var top []string
	for _, r := range out.EvaluationResults {
		top = append(top, aws.ToString(r.EvalActionName)+" "+string(r.EvalDecision)+" "+aws.ToString(r.EvalResourceName))
	}
	wantTop := []string{
		"secretsmanager:GetSecretValue explicitDeny ",
		"secretsmanager:DescribeSecret explicitDeny ",
		"secretsmanager:PutSecretValue explicitDeny ",
	}
	if diff := cmp.Diff(wantTop, top); diff != "" {
		t.Errorf("aggregate results (-want +got):\n%s", diff)
	}

	// Pagination over results, and PolicyInputList adding an allow.
	var paged []evalRow
	pg := iam.NewSimulatePrincipalPolicyPaginator(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: roleARN, MaxItems: aws.Int32(1),
		ActionNames:     []string{"secretsmanager:GetSecretValue", "kms:Decrypt"},
		PolicyInputList: []string{allowDoc("kms:Decrypt", "*")},
	})
	for pg.HasMorePages() {
		p, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, rows(p.EvaluationResults)...)
	}
	want = []evalRow{
		{"secretsmanager:GetSecretValue", "*", "implicitDeny", nil, "allows"},
		{"kms:Decrypt", "*", "implicitDeny", nil, "denies"}, // the boundary does not allow kms
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged results (-want +got):\n%s", diff)
	}

	tests := []struct {
		name   string
		in     *iam.SimulatePrincipalPolicyInput
		code   string
		status int
	}{
		{"unknown role", &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/nope"), ActionNames: []string{"s3:GetObject"}}, "NoSuchEntity", 404},
		{"role ARN with wrong path", &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/web"), ActionNames: []string{"s3:GetObject"}}, "NoSuchEntity", 404},
		{"bad input policy", &iam.SimulatePrincipalPolicyInput{PolicySourceArn: roleARN, ActionNames: []string{"s3:GetObject"}, PolicyInputList: []string{"{"}}, "InvalidInput", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SimulatePrincipalPolicy(ctx, tt.in)
			wantAPIError(t, err, tt.code, tt.status)
		})
	}
}

func TestSimulateCustomPolicy(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	identity := `{"Version":"2012-10-17","Statement":[{"Sid":"Kms","Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
		"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`
	resource := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/web"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	caller := aws.String("arn:aws:iam::000000000000:role/web")
	tests := []struct {
		name string
		in   iam.SimulateCustomPolicyInput
		want []evalRow
	}{
		{"condition holds", iam.SimulateCustomPolicyInput{
			ActionNames: []string{"kms:Decrypt"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("kms:ViaService"), ContextKeyType: types.ContextKeyTypeEnumString,
				ContextKeyValues: []string{"secretsmanager.us-east-1.amazonaws.com"}}},
		}, []evalRow{{"kms:Decrypt", "*", "allowed", []string{"none/PolicyInputList.1"}, ""}}},
		{"condition key missing", iam.SimulateCustomPolicyInput{ActionNames: []string{"kms:Decrypt"}},
			[]evalRow{{"kms:Decrypt", "*", "implicitDeny", nil, ""}}},
		{"resource policy allows the caller", iam.SimulateCustomPolicyInput{
			ActionNames: []string{"secretsmanager:GetSecretValue"}, ResourceArns: []string{secretA},
			ResourcePolicy: aws.String(resource), CallerArn: caller,
		}, []evalRow{{"secretsmanager:GetSecretValue", secretA, "allowed", []string{"resource/ResourcePolicy"}, ""}}},
		{"resource policy names another principal", iam.SimulateCustomPolicyInput{
			ActionNames: []string{"secretsmanager:GetSecretValue"}, ResourceArns: []string{secretA},
			ResourcePolicy: aws.String(resource), CallerArn: aws.String("arn:aws:iam::000000000000:role/other"),
		}, []evalRow{{"secretsmanager:GetSecretValue", secretA, "implicitDeny", nil, ""}}},
		{"boundary denies", iam.SimulateCustomPolicyInput{
			ActionNames: []string{"kms:Decrypt"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("kms:ViaService"), ContextKeyType: types.ContextKeyTypeEnumString,
				ContextKeyValues: []string{"secretsmanager.us-east-1.amazonaws.com"}}},
			PermissionsBoundaryPolicyInputList: []string{allowDoc("secretsmanager:*", "*")},
		}, []evalRow{{"kms:Decrypt", "*", "implicitDeny", nil, "denies"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.PolicyInputList = []string{identity}
			out, err := c.SimulateCustomPolicy(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(out.EvaluationResults)); diff != "" {
				t.Errorf("EvaluationResults (-want +got):\n%s", diff)
			}
		})
	}

	_, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{identity}, ActionNames: []string{"kms:Decrypt"}, ResourcePolicy: aws.String(resource),
	})
	wantAPIError(t, err, "InvalidInput", 400)
	_, err = c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{identity}, ActionNames: []string{"kms:Decrypt"}, ResourcePolicy: aws.String("{")})
	wantAPIError(t, err, "InvalidInput", 400)
	if err != nil && strings.Contains(err.Error(), identity) {
		t.Errorf("error echoes the policy document")
	}
}

// TestSimulatePrincipalPolicyContext checks that ContextEntries reach the
// conditions of a role's policies, with the kms:Decrypt statement
// policy synthesizes for a secret under a customer managed key.
func TestSimulatePrincipalPolicyContext(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	const key = "arn:aws:kms:us-east-1:000000000000:key/11111111-1111-1111-1111-111111111111"
	read := policy.ReadPolicy("us-east-1", []policy.Grant{{SecretARN: secretA, KMSKeyARN: key}})
	for role, doc := range map[string]string{
		"web":   string(read.Compact()),
		"broad": allowDoc("kms:Decrypt", key), // the key, without conditions
		"none":  allowDoc("secretsmanager:GetSecretValue", secretB),
	} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("secretboot-read"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(name string, values ...string) types.ContextEntry {
		return types.ContextEntry{ContextKeyName: aws.String(name), ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: values}
	}
	via := entry("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com")
	tests := []struct {
		name    string
		role    string
		entries []types.ContextEntry
		want    string
	}{
		{"the secret through Secrets Manager", "web", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretA), via}, "allowed"},
		{"key names ignore case", "web", []types.ContextEntry{entry("KMS:encryptioncontext:secretarn", secretA), entry("kms:viaservice", "secretsmanager.us-east-1.amazonaws.com")}, "allowed"},
		{"another secret under the key", "web", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretB), via}, "implicitDeny"},
		{"another region's Secrets Manager", "web", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretA), entry("kms:ViaService", "secretsmanager.eu-west-1.amazonaws.com")}, "implicitDeny"},
		{"not through Secrets Manager", "web", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretA)}, "implicitDeny"},
		{"no context", "web", nil, "implicitDeny"},
		{"a grant without conditions", "broad", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretB), via}, "allowed"},
		{"a role not granted", "none", []types.ContextEntry{entry("kms:EncryptionContext:SecretARN", secretA), via}, "implicitDeny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/" + tt.role),
				ActionNames:     []string{"kms:Decrypt"},
				ResourceArns:    []string{key, "arn:aws:kms:us-east-1:000000000000:key/22222222-2222-2222-2222-222222222222"},
				ContextEntries:  tt.entries,
			})
			if err != nil {
				t.Fatal(err)
			}
			got := rows(out.EvaluationResults)
			if len(got) != 2 {
				t.Fatalf("got %d rows, want one per key: %v", len(got), got)
			}
			if got[0].Decision != tt.want {
				t.Errorf("decision on the key = %s, want %s", got[0].Decision, tt.want)
			}
			if tt.want == "allowed" && !cmp.Equal(got[0].Matched, []string{"role/secretboot-read"}) {
				t.Errorf("matched = %v, want the role's policy", got[0].Matched)
			}
			// The context holds for every resource: the other key is
			// granted to nobody.
			if got[1].Decision != "implicitDeny" {
				t.Errorf("decision on the other key = %s, want implicitDeny", got[1].Decision)
			}
		})
	}

	for _, tt := range []struct {
		name  string
		entry types.ContextEntry
		code  string
	}{
		{"unknown type", types.ContextEntry{ContextKeyName: aws.String("kms:ViaService"), ContextKeyType: "text", ContextKeyValues: []string{"x"}}, "ValidationError"},
		{"name too short", entry("kms", "x"), "ValidationError"},
		{"no name", types.ContextEntry{ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: []string{"x"}}, "InvalidInput"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String("arn:aws:iam::000000000000:role/web"), ActionNames: []string{"kms:Decrypt"},
				ContextEntries: []types.ContextEntry{tt.entry},
			})
			wantAPIError(t, err, tt.code, 400)
		})
	}
}
