package iam

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/golden"
)

// ids masks the random parts of unique IDs so that transcripts are stable.
var ids = regexp.MustCompile(`(AROA|AIPA|ANPA)[A-Z0-9]{17}`)

// TestWireTranscript pins the exact XML of a sequence of requests, as the
// SDKs and the AWS CLI see it, in testdata/transcript.golden.
func TestWireTranscript(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	svc := New(Config{
		Account: testAccount,
		Now:     func() time.Time { return now },
		IssueCredentials: func(Principal) Credentials {
			return Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Expiration: now.Add(time.Hour)}
		},
	})
	admin := Principal{ARN: adminARN, Account: testAccount, Admin: true}
	steps := []struct {
		sts  bool
		form string
	}{
		{false, "Action=CreateRole&Version=2010-05-08&RoleName=web&Path=%2Fapp%2F&Description=web+tier&AssumeRolePolicyDocument=" + url.QueryEscape(ec2Trust) + "&Tags.member.1.Key=b&Tags.member.1.Value=2&Tags.member.2.Key=a&Tags.member.2.Value=1"},
		{false, "Action=GetRole&Version=2010-05-08&RoleName=web"},
		{false, "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fapp%2F"},
		{false, "Action=PutRolePolicy&Version=2010-05-08&RoleName=web&PolicyName=read&PolicyDocument=" + url.QueryEscape(allowDoc("secretsmanager:GetSecretValue", secretA))},
		{false, "Action=GetRolePolicy&Version=2010-05-08&RoleName=web&PolicyName=read"},
		{false, "Action=ListRolePolicies&Version=2010-05-08&RoleName=web&MaxItems=1"},
		{false, "Action=CreateInstanceProfile&Version=2010-05-08&InstanceProfileName=web&Path=%2Fapp%2F"},
		{false, "Action=AddRoleToInstanceProfile&Version=2010-05-08&InstanceProfileName=web&RoleName=web"},
		{false, "Action=GetInstanceProfile&Version=2010-05-08&InstanceProfileName=web"},
		{false, "Action=CreatePolicy&Version=2010-05-08&PolicyName=extra&PolicyDocument=" + url.QueryEscape(allowDoc("kms:Decrypt", "*"))},
		{false, "Action=GetPolicyVersion&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fextra&VersionId=v1"},
		{false, "Action=GetAccountSummary&Version=2010-05-08"},
		{false, "Action=SimulatePrincipalPolicy&Version=2010-05-08&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp%2Fweb&ActionNames.member.1=secretsmanager%3AGetSecretValue&ResourceArns.member.1=" + url.QueryEscape(secretA)},
		{false, "Action=SimulatePrincipalPolicy&Version=2010-05-08&PolicySourceArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp%2Fweb"},
		{true, "Action=GetCallerIdentity&Version=2011-06-15"},
		{true, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp%2Fweb&RoleSessionName=s1"},
		{false, "Action=DeleteRole&Version=2010-05-08&RoleName=web"},
		{false, "Action=GetRole&Version=2010-05-08&RoleName=nope"},
		{false, "Action=CreateRole&Version=2010-05-08&RoleName=a+b"},
		{false, "Action=ListAccessKeys&Version=2010-05-08"},
		{false, "Action=RemoveRoleFromInstanceProfile&Version=2010-05-08&InstanceProfileName=web&RoleName=web"},
		{false, "Action=DeleteRolePolicy&Version=2010-05-08&RoleName=web&PolicyName=read"},
		{false, "Action=DeleteRole&Version=2010-05-08&RoleName=web"},
	}
	var out strings.Builder
	for _, st := range steps {
		form, err := url.ParseQuery(st.form)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if st.sts {
			svc.ServeSTS(rec, form, admin, "req-1")
		} else {
			svc.ServeIAM(rec, form, admin, "req-1")
		}
		fmt.Fprintf(&out, "### %s %d %s\n%s\n\n", form.Get("Action"), rec.Code, rec.Header().Get("Content-Type"), ids.ReplaceAllString(rec.Body.String(), "${1}XXXXXXXXXXXXXXXXX"))
	}
	golden.Check(t, filepath.Join("testdata", "transcript.golden"), []byte(out.String()))
}

// FuzzQueryRequest feeds arbitrary form bodies to both services: they must
// never panic, never answer 5xx, and always answer well-formed XML.
func FuzzQueryRequest(f *testing.F) {
	seeds := []string{
		"Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=" + url.QueryEscape(ec2Trust),
		"Action=PutRolePolicy&RoleName=r&PolicyName=p&PolicyDocument=" + url.QueryEscape(allowDoc("s3:*", "*")),
		"Action=ListRoles&MaxItems=0&Marker=zz",
		"Action=TagRole&RoleName=r&Tags.member.1.Key=aws%3Ax&Tags.member.1.Value=",
		"Action=SimulateCustomPolicy&PolicyInputList.member.1=%7B%7D&ActionNames.member.1=a&ContextEntries.member.1.ContextKeyValues.member.1=x",
		"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s&DurationSeconds=9e9",
		"Action=CreatePolicyVersion&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess&PolicyDocument=x",
		"Action=ListPolicyVersions&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
		"Action=GetCallerIdentity",
		"Action=GetAccountSummary&Extra=1",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		svc := New(Config{Account: testAccount})
		// A role to operate on, so that fuzzed requests get past lookups.
		seed, _ := url.ParseQuery(seeds[0])
		svc.ServeIAM(httptest.NewRecorder(), seed, Principal{}, "seed")
		for _, serve := range []func(http.ResponseWriter, url.Values, Principal, string){svc.ServeIAM, svc.ServeSTS} {
			rec := httptest.NewRecorder()
			serve(rec, form, Principal{ARN: adminARN, Account: testAccount, Admin: true}, "fuzz")
			if rec.Code >= 500 {
				t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), new(struct{})); err != nil {
				t.Fatalf("malformed XML for %q: %v", body, err)
			}
		}
	})
}
