package iam

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPolicyHolders drives the seven policy operations on a role, a user
// and a group, which share one implementation, and pins what differs by
// kind: the principal's element in Get…Policy, the words and numbers of the
// messages and the quotas.
func TestPolicyHolders(t *testing.T) {
	tests := []struct {
		kind, create string
		inlineMax    int
		quota        int
		quotaName    string
	}{
		{"Role", "Action=CreateRole&RoleName=p&AssumeRolePolicyDocument=" + url.QueryEscape(ec2Trust), 10240, 10, "PoliciesPerRole"},
		{"User", "Action=CreateUser&UserName=p", 2048, 10, "PoliciesPerUser"},
		{"Group", "Action=CreateGroup&GroupName=p", 5120, 10, "PoliciesPerGroup"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			svc := New(Config{Account: testAccount, Now: func() time.Time { return now }})
			admin := Principal{ARN: adminARN, Account: testAccount, Admin: true}
			call := func(form string) (int, string) {
				t.Helper()
				f, err := url.ParseQuery(form + "&Version=2010-05-08")
				if err != nil {
					t.Fatal(err)
				}
				rec := httptest.NewRecorder()
				svc.ServeIAM(rec, f, admin, "req")
				return rec.Code, rec.Body.String()
			}
			want := func(form string, status int, parts ...string) {
				t.Helper()
				code, body := call(form)
				if code != status {
					t.Errorf("%s: status %d, want %d: %s", form, code, status, body)
				}
				for _, p := range parts {
					if !strings.Contains(body, p) {
						t.Errorf("%s: body lacks %q: %s", form, p, body)
					}
				}
			}
			who := "&" + tt.kind + "Name=p"
			lower := strings.ToLower(tt.kind)
			want(tt.create, 200)
			doc := url.QueryEscape(allowDoc("s3:GetObject", "*"))
			want("Action=Put"+tt.kind+"Policy"+who+"&PolicyName=a&PolicyDocument="+doc, 200)
			want("Action=Get"+tt.kind+"Policy"+who+"&PolicyName=a", 200,
				fmt.Sprintf("<Get%sPolicyResult><%sName>p</%sName><PolicyName>a</PolicyName><PolicyDocument>", tt.kind, tt.kind, tt.kind))
			want("Action=Get"+tt.kind+"Policy"+who+"&PolicyName=b", 404,
				fmt.Sprintf("The %s policy with name b cannot be found.", lower))
			want("Action=List"+tt.kind+"Policies"+who, 200, "<PolicyNames><member>a</member></PolicyNames>")
			big := url.QueryEscape(allowDoc("s3:"+strings.Repeat("x", tt.inlineMax), "*"))
			want("Action=Put"+tt.kind+"Policy"+who+"&PolicyName=big&PolicyDocument="+big, 409,
				fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s p", tt.inlineMax, lower))

			for i := range tt.quota {
				want(fmt.Sprintf("Action=CreatePolicy&PolicyName=m%02d&PolicyDocument=%s", i, doc), 200)
				want(fmt.Sprintf("Action=Attach%sPolicy%s&PolicyArn=arn:aws:iam::%s:policy/m%02d", tt.kind, who, testAccount, i), 200)
			}
			want("Action=Attach"+tt.kind+"Policy"+who+"&PolicyArn=arn:aws:iam::aws:policy/AdministratorAccess", 409,
				fmt.Sprintf("Cannot exceed quota for %s: %d", tt.quotaName, tt.quota))
			want("Action=Attach"+tt.kind+"Policy"+who+"&PolicyArn=arn:aws:iam::"+testAccount+":policy/m00", 200) // again: no-op
			want("Action=ListAttached"+tt.kind+"Policies"+who+"&MaxItems=1", 200,
				"<AttachedPolicies><member><PolicyName>m00</PolicyName><PolicyArn>arn:aws:iam::000000000000:policy/m00</PolicyArn></member></AttachedPolicies><IsTruncated>true</IsTruncated>")

			want("Action=Delete"+tt.kind+who, 409, "Cannot delete entity, must delete policies first.")
			want("Action=Delete"+tt.kind+"Policy"+who+"&PolicyName=a", 200)
			want("Action=Delete"+tt.kind+who, 409, "Cannot delete entity, must detach all policies first.")
			for i := range tt.quota {
				want(fmt.Sprintf("Action=Detach%sPolicy%s&PolicyArn=arn:aws:iam::%s:policy/m%02d", tt.kind, who, testAccount, i), 200)
			}
			want("Action=Detach"+tt.kind+"Policy"+who+"&PolicyArn=arn:aws:iam::"+testAccount+":policy/m00", 404,
				"Policy arn:aws:iam::000000000000:policy/m00 was not found.")
			want("Action=Delete"+tt.kind+who, 200)
			want("Action=List"+tt.kind+"Policies"+who, 404, fmt.Sprintf("The %s with name p cannot be found.", lower))
		})
	}
}
