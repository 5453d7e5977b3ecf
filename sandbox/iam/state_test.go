package iam

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"
)

func TestSnapshotRestore(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	mustCreateRole(t, c, "web", "/secretboot/shop/dev/", ec2Trust)
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(allowDoc("s3:GetObject", "*"))})
	if err != nil {
		t.Fatal(err)
	}
	must := mustSucceed(t)
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowDoc("secretsmanager:GetSecretValue", secretA))}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: pol.Policy.Arn}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))

	snap, err := e.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, again) {
		t.Error("two snapshots of the same state differ")
	}

	restored := newEnv(t, 0)
	if err := restored.svc.Restore(snap); err != nil {
		t.Fatal(err)
	}
	rc := restored.iam()
	before, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	after, err := rc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(aws.ToString(before.Role.RoleId), aws.ToString(after.Role.RoleId)); diff != "" {
		t.Errorf("role ID changed across restore: %s", diff)
	}
	sim := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: before.Role.Arn, ActionNames: []string{"secretsmanager:GetSecretValue", "s3:GetObject", "ec2:RunInstances"}, ResourceArns: []string{secretA}}
	want, err := c.SimulatePrincipalPolicy(ctx, sim)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.SimulatePrincipalPolicy(ctx, sim)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rows(want.EvaluationResults), rows(got.EvaluationResults)); diff != "" {
		t.Errorf("simulation after restore (-before +after):\n%s", diff)
	}
	_, err = rc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
	wantAPIError(t, err, "DeleteConflict", 409)
	if snap2, _ := restored.svc.Snapshot(); !bytes.Equal(snap, snap2) {
		t.Error("snapshot of the restored state differs from the original")
	}

	tests := []struct {
		name string
		data string
	}{
		{"not JSON", "nope"},
		{"bad stored document", `{"roles":{"x":{"name":"x","trust":"{"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := New(Config{Account: testAccount}).Restore([]byte(tt.data)); err == nil {
				t.Error("Restore accepted corrupt state")
			}
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	c := e.iam()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("r%02d", i)), AssumeRolePolicyDocument: aws.String(ec2Trust)})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := c.ListRoles(ctx, &iam.ListRolesInput{})
			errs <- err
			_, _ = e.svc.Snapshot()
			e.svc.PolicySetFor(Principal{RoleName: "r00"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	out, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Roles) != 20 {
		t.Errorf("%d roles, want 20", len(out.Roles))
	}
}
