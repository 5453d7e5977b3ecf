package views

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/golden"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

const arnPrefix = "arn:aws:secretsmanager:us-east-1:111111111111:secret:"

func header() provision.Header {
	return provision.Header{
		Project: "shop", Stage: "dev", Account: "111111111111", Region: "us-east-1",
		CallerARN: "arn:aws:sts::111111111111:assumed-role/deployer/ci", CredentialSource: "EnvConfigCredentials",
		SpecHash: "0123abcd",
	}
}

const readDoc = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadSecrets",
      "Effect": "Allow",
      "Action": "secretsmanager:GetSecretValue",
      "Resource": "arn:aws:secretsmanager:us-east-1:111111111111:secret:dev/app/db/credentials-??????"
    }
  ]
}
`

const webARN = "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"

var lockAdmins = []string{"arn:aws:iam::111111111111:role/break-glass", "arn:aws:iam::111111111111:role/ci/deployer"}

func lockDoc() string {
	return string(policy.ResourcePolicy([]string{webARN}, lockAdmins).Canonical())
}

// plans are fixtures covering every kind of change and status.
func plans() map[string]*provision.Plan {
	return map[string]*provision.Plan{
		"empty": {FormatVersion: provision.FormatVersion, Header: header(), Changes: []provision.Change{}},
		"first-apply": {
			FormatVersion: provision.FormatVersion, Header: header(),
			Changes: []provision.Change{
				{ID: "stage_key:dev/.secretboot/stage-key", Kind: provision.KindStageKey, Name: "dev/.secretboot/stage-key", Action: provision.ActionCreate, Secret: &provision.SecretChange{}},
				{ID: "role:shop-dev-web", Kind: provision.KindRole, Name: "shop-dev-web", Action: provision.ActionCreate, Role: &provision.RoleChange{
					Services: []string{"ec2.amazonaws.com"}, Description: &provision.ValueChange{New: "web tier"}, InstanceProfile: true,
					Trust: &provision.ValueChange{New: "{}"},
				}},
				{ID: "secret:dev/app/db/credentials", Kind: provision.KindSecret, Name: "dev/app/db/credentials", Action: provision.ActionCreate,
					DependsOn: []string{"stage_key:dev/.secretboot/stage-key"},
					Secret: &provision.SecretChange{
						Description: &provision.ValueChange{New: "primary database"},
						Readers:     []string{"shop-dev-web"},
						Tags:        []provision.TagChange{{Key: "team", New: "payments"}},
						Payload: &provision.PayloadChange{Status: provision.PayloadNew, Kind: "object", Sensitive: "(sensitive)",
							Fields: []provision.Field{{Name: "host"}, {Name: "password", Generated: true}, {Name: "username"}}},
						Rotation: &provision.RotationChange{Op: provision.RotationEnable, RotateImmediately: true, Fields: []string{"password"},
							Function: &provision.ValueChange{New: "arn:aws:lambda:us-east-1:111111111111:function:rotate-db"},
							Schedule: &provision.ValueChange{New: "30 days, window 4h"}},
					}},
				{ID: "role_policy:shop-dev-web/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-web/secretboot-read", Action: provision.ActionCreate,
					DependsOn: []string{"role:shop-dev-web", "secret:dev/app/db/credentials"},
					Policy: &provision.PolicyChange{Role: "shop-dev-web", PolicyName: "secretboot-read", Document: readDoc,
						Pending: []string{"dev/app/db/credentials"},
						Grants:  []provision.GrantChange{{Op: "add", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/app/db/credentials-??????", Broadens: true}}}},
				{ID: "instance_profile:shop-dev-web", Kind: provision.KindInstanceProfile, Name: "shop-dev-web", Action: provision.ActionCreate,
					DependsOn: []string{"role:shop-dev-web"}, Profile: &provision.ProfileChange{AddRole: "shop-dev-web"}},
			},
			Summary: provision.Summary{Add: 5, Broadening: 1},
		},
		"mixed": {
			FormatVersion: provision.FormatVersion, Header: func() provision.Header {
				h := header()
				h.Warnings = []string{"the credentials are a long-term access key (AKIA…); prefer a role"}
				return h
			}(),
			Regenerate: []string{"app/api-token"},
			Changes: []provision.Change{
				{ID: "role:shop-dev-web", Kind: provision.KindRole, Name: "shop-dev-web", Action: provision.ActionUpdate, Role: &provision.RoleChange{
					ARN: "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web", Services: []string{"ec2.amazonaws.com", "ecs-tasks.amazonaws.com"},
					Description: &provision.ValueChange{Old: "web", New: "web tier"}, Trust: &provision.ValueChange{
						Old: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`,
						New: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`},
				}},
				{ID: "secret:dev/app/api-token", Kind: provision.KindSecret, Name: "dev/app/api-token", Action: provision.ActionUpdate, Secret: &provision.SecretChange{
					ARN:     arnPrefix + "dev/app/api-token-AbCdEf",
					Tags:    []provision.TagChange{{Key: "secretboot:generation", New: "1"}},
					Payload: &provision.PayloadChange{Status: provision.PayloadChangedInSpec, Kind: "string", Generated: true, Regenerate: []string{""}, Sensitive: "(sensitive)"},
				}},
				{ID: "secret:dev/app/db/credentials", Kind: provision.KindSecret, Name: "dev/app/db/credentials", Action: provision.ActionUpdate, Secret: &provision.SecretChange{
					ARN:     arnPrefix + "dev/app/db/credentials-AbCdEf",
					Payload: &provision.PayloadChange{Status: provision.PayloadChangedInSpec, Kind: "object", ReadsLive: true, Sensitive: "(sensitive)", Fields: []provision.Field{{Name: "host"}, {Name: "password", Generated: true}}},
				}},
				{ID: "secret:dev/app/legacy", Kind: provision.KindSecret, Name: "dev/app/legacy", Action: provision.ActionDelete, Secret: &provision.SecretChange{ARN: arnPrefix + "dev/app/legacy-AbCdEf", RecoveryDays: 30}},
				{ID: "secret:dev/app/stripe-key", Kind: provision.KindSecret, Name: "dev/app/stripe-key", Action: provision.ActionUpdate, Secret: &provision.SecretChange{
					ARN:     arnPrefix + "dev/app/stripe-key-AbCdEf",
					Payload: &provision.PayloadChange{Status: provision.PayloadChangedOutside, Kind: "string", Sensitive: "(sensitive)"},
					KMSKey:  &provision.ValueChange{Old: "", New: "arn:aws:kms:us-east-1:111111111111:key/k1"},
					Tags:    []provision.TagChange{{Key: "owner", Old: "alice", Removed: true}, {Key: "team", Old: "a", New: "b"}},
				}},
				{ID: "secret:dev/tls/key", Kind: provision.KindSecret, Name: "dev/tls/key", Action: provision.ActionRestore, Secret: &provision.SecretChange{
					ARN:     arnPrefix + "dev/tls/key-AbCdEf",
					Payload: &provision.PayloadChange{Status: provision.PayloadRestoreStage, Kind: "binary", Sensitive: "(sensitive)"},
				}},
				{ID: "role_policy:shop-dev-web/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-web/secretboot-read", Action: provision.ActionUpdate,
					Policy: &provision.PolicyChange{Role: "shop-dev-web", PolicyName: "secretboot-read", Document: readDoc, Grants: []provision.GrantChange{
						{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/app/legacy-AbCdEf"},
						{Op: "add", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111111111111:key/k1", Condition: `{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com"]}}`, Broadens: true},
						{Op: "add", Effect: "Allow", Action: "secretsmanager:DescribeSecret", Resource: arnPrefix + "dev/app/stripe-key-AbCdEf", Broadens: true},
					}}},
				{ID: "role_policy:tf-reporting/secretboot-shop-dev-read", Kind: provision.KindRolePolicy, Name: "tf-reporting/secretboot-shop-dev-read", Action: provision.ActionDelete,
					Policy: &provision.PolicyChange{Role: "tf-reporting", PolicyName: "secretboot-shop-dev-read", External: true, DeletesInline: true,
						Grants: []provision.GrantChange{{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/app/stripe-key-AbCdEf"}},
						Record: &provision.TagChange{Key: provision.TagExternalPrefix + "tf-reporting", Old: "arn:aws:iam::111111111111:role/tf/tf-reporting", Removed: true}}},
				{ID: "instance_profile:shop-dev-old", Kind: provision.KindInstanceProfile, Name: "shop-dev-old", Action: provision.ActionDelete, Profile: &provision.ProfileChange{RemoveRole: "shop-dev-old"}},
				{ID: "role:shop-dev-old", Kind: provision.KindRole, Name: "shop-dev-old", Action: provision.ActionDelete, DependsOn: []string{"instance_profile:shop-dev-old"}, Role: &provision.RoleChange{ARN: "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-old"}},
			},
			Summary: provision.Summary{Add: 1, Change: 5, Destroy: 4, Broadening: 2},
		},
		"split": {
			FormatVersion: provision.FormatVersion, Header: header(),
			Changes: []provision.Change{
				{ID: "role_policy:shop-dev-batch/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-batch/secretboot-read", Action: provision.ActionUpdate,
					Policy: &provision.PolicyChange{Role: "shop-dev-batch", PolicyName: "secretboot-read", Document: readDoc, Layout: provision.LayoutManaged, DeletesInline: true,
						Managed: []provision.ManagedPolicyChange{
							{Name: "shop-dev-batch-read-1", Action: provision.ActionCreate, Attach: true, Document: readDoc},
							{Name: "shop-dev-batch-read-2", Action: provision.ActionCreate, Attach: true, Document: readDoc},
						},
						Grants: []provision.GrantChange{{Op: "add", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/batch/0300-AbCdEf", Broadens: true}}}},
				{ID: "role_policy:shop-dev-web/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-web/secretboot-read", Action: provision.ActionUpdate,
					Policy: &provision.PolicyChange{Role: "shop-dev-web", PolicyName: "secretboot-read", Document: readDoc, Layout: provision.LayoutManaged,
						Managed: []provision.ManagedPolicyChange{
							{Name: "shop-dev-web-read-1", Document: readDoc},
							{Name: "shop-dev-web-read-2", Action: provision.ActionUpdate, Document: readDoc},
							{Name: "shop-dev-web-read-3", Attach: true, Document: readDoc},
							{Name: "shop-dev-web-read-4", Action: provision.ActionDelete},
						},
						Grants: []provision.GrantChange{{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/web/0001-AbCdEf"}}}},
				{ID: "role_policy:shop-dev-worker/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-worker/secretboot-read", Action: provision.ActionUpdate,
					Policy: &provision.PolicyChange{Role: "shop-dev-worker", PolicyName: "secretboot-read", Document: readDoc, Layout: provision.LayoutInline,
						Managed: []provision.ManagedPolicyChange{{Name: "shop-dev-worker-read-1", Action: provision.ActionDelete}, {Name: "shop-dev-worker-read-2", Action: provision.ActionDelete}},
						Grants:  []provision.GrantChange{{Op: "remove", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: arnPrefix + "dev/worker/0200-AbCdEf"}}}},
			},
			Summary: provision.Summary{Change: 3, Broadening: 1},
		},
		"resource-policies": {
			FormatVersion: provision.FormatVersion, Header: header(),
			Changes: []provision.Change{
				{ID: "resource_policy:dev/app/db/credentials", Kind: provision.KindResourcePolicy, Name: "dev/app/db/credentials", Action: provision.ActionCreate,
					DependsOn: []string{"secret:dev/app/db/credentials"},
					Resource: &provision.ResourcePolicyChange{Document: lockDoc(), Readers: []string{webARN}, Admins: lockAdmins,
						Record: &provision.TagChange{Key: provision.TagResourcePolicy, New: "managed"}}},
				{ID: "resource_policy:dev/app/stripe-key", Kind: provision.KindResourcePolicy, Name: "dev/app/stripe-key", Action: provision.ActionUpdate,
					Resource: &provision.ResourcePolicyChange{ARN: arnPrefix + "dev/app/stripe-key-XyZ123", Document: lockDoc(), Live: readDoc, Readers: []string{webARN}, Admins: lockAdmins}},
				{ID: "resource_policy:dev/legacy/api-key", Kind: provision.KindResourcePolicy, Name: "dev/legacy/api-key", Action: provision.ActionDelete,
					Resource: &provision.ResourcePolicyChange{ARN: arnPrefix + "dev/legacy/api-key-AbCdEf", Live: lockDoc(),
						Record: &provision.TagChange{Key: provision.TagResourcePolicy, Old: "managed", Removed: true}}},
			},
			Summary: provision.Summary{Add: 1, Change: 1, Destroy: 1},
		},
		"replication": {
			FormatVersion: provision.FormatVersion, Header: header(),
			Changes: []provision.Change{
				{ID: "secret:dev/app/api", Kind: provision.KindSecret, Name: "dev/app/api", Action: provision.ActionDelete, DependsOn: []string{"replication:dev/app/api"},
					Secret: &provision.SecretChange{ARN: arnPrefix + "dev/app/api-GhIjKl", RecoveryDays: 30}},
				{ID: "replication:dev/app/api", Kind: provision.KindReplication, Name: "dev/app/api", Action: provision.ActionDelete,
					Replication: &provision.ReplicationChange{ARN: arnPrefix + "dev/app/api-GhIjKl", Replicas: []provision.ReplicaChange{
						{Region: "us-west-2", Op: provision.ReplicaRemove, Status: "InSync"}}}},
				{ID: "policy:shop-dev-west/secretboot-read", Kind: provision.KindRolePolicy, Name: "shop-dev-west/secretboot-read", Action: provision.ActionCreate,
					Policy: &provision.PolicyChange{Role: "shop-dev-west", PolicyName: "secretboot-read", Layout: provision.LayoutInline,
						Grants: []provision.GrantChange{
							{Op: "add", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-west-2:111111111111:secret:dev/app/db/credentials-AbCdEf", Broadens: true},
							{Op: "add", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-west-2:111111111111:key/w1", Condition: `{"StringEquals":{"kms:EncryptionContext:SecretARN":["arn:aws:secretsmanager:us-west-2:111111111111:secret:dev/app/db/credentials-AbCdEf"],"kms:ViaService":["secretsmanager.us-west-2.amazonaws.com"]}}`, Broadens: true},
						}}},
				{ID: "replication:dev/app/db/credentials", Kind: provision.KindReplication, Name: "dev/app/db/credentials", Action: provision.ActionUpdate,
					Replication: &provision.ReplicationChange{ARN: arnPrefix + "dev/app/db/credentials-AbCdEf", Replicas: []provision.ReplicaChange{
						{Region: "ap-south-1", Op: provision.ReplicaRetry, Status: "Failed", Message: "Access denied to the KMS key in ap-south-1"},
						{Region: "eu-west-1", Op: provision.ReplicaReplace, KMSKey: provision.ValueChange{New: "arn:aws:kms:eu-west-1:111111111111:key/e1"}, Status: "InSync"},
						{Region: "us-west-2", Op: provision.ReplicaAdd, KMSKey: provision.ValueChange{New: "arn:aws:kms:us-west-2:111111111111:key/w1"}},
					}}},
			},
			Summary: provision.Summary{Add: 1, Change: 1, Destroy: 2, Broadening: 2},
		},
		"destroy": {
			FormatVersion: provision.FormatVersion, Header: header(), Destroy: true,
			Changes: []provision.Change{
				{ID: "secret:dev/app/db/credentials", Kind: provision.KindSecret, Name: "dev/app/db/credentials", Action: provision.ActionDelete, Secret: &provision.SecretChange{ARN: arnPrefix + "dev/app/db/credentials-AbCdEf", RecoveryDays: 7}},
				{ID: "role:shop-dev-web", Kind: provision.KindRole, Name: "shop-dev-web", Action: provision.ActionDelete, Role: &provision.RoleChange{}},
			},
			Summary: provision.Summary{Destroy: 2},
		},
	}
}

func TestRenderings(t *testing.T) {
	formats := []struct {
		ext    string
		render func(*bytes.Buffer, *provision.Plan) error
	}{
		{"txt", func(b *bytes.Buffer, p *provision.Plan) error { return Text(b, p, Colors{}) }},
		{"color.txt", func(b *bytes.Buffer, p *provision.Plan) error { return Text(b, p, Colors{On: true}) }},
		{"json", func(b *bytes.Buffer, p *provision.Plan) error { return JSON(b, p) }},
		{"md", func(b *bytes.Buffer, p *provision.Plan) error { return Markdown(b, p) }},
	}
	for name, p := range plans() {
		for _, f := range formats {
			t.Run(name+"."+f.ext, func(t *testing.T) {
				var first, second bytes.Buffer
				if err := f.render(&first, p); err != nil {
					t.Fatal(err)
				}
				if err := f.render(&second, p); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first.Bytes(), second.Bytes()) {
					t.Fatal("rendering is not deterministic")
				}
				golden.Check(t, filepath.Join("testdata", name+"."+f.ext), first.Bytes())
			})
		}
	}
}

func TestOutputs(t *testing.T) {
	o := &provision.Outputs{
		Project: "shop", Stage: "dev",
		SecretARNs:       map[string]string{"app/db/credentials": arnPrefix + "dev/app/db/credentials-AbCdEf", "app/stripe-key": arnPrefix + "dev/app/stripe-key-XyZ123"},
		RoleARNs:         map[string]string{"web": "arn:aws:iam::111111111111:role/secretboot/shop/dev/shop-dev-web"},
		InstanceProfiles: map[string]string{"web": "shop-dev-web"},
	}
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"outputs.json", func(b *bytes.Buffer) error { return OutputsJSON(b, o) }},
		{"outputs.tfvars", func(b *bytes.Buffer) error { return OutputsTFVars(b, o) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name), b.Bytes())
		})
	}
}

func TestApplySummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  *provision.ApplyResult
	}{
		{"apply-summary-clean.txt", &provision.ApplyResult{Summary: provision.ApplySummary{
			Changes: 6, Calls: 31, Duration: 1234567891 * time.Nanosecond,
			Ops: []provision.OpStats{{Service: "IAM", Operation: "CreateRole", Calls: 1}},
		}}},
		{"apply-summary-retries.txt", &provision.ApplyResult{Summary: provision.ApplySummary{
			Changes: 1, Failed: 1, NotDone: 2, Calls: 42, Retries: 4, Throttles: 3, Duration: 870 * time.Millisecond,
			Ops: []provision.OpStats{
				{Service: "IAM", Operation: "PutRolePolicy", Calls: 5, Retries: 1, Throttles: 1},
				{Service: "Secrets Manager", Operation: "CreateSecret", Calls: 20, Retries: 3, Throttles: 2, Errors: 1},
				{Service: "Secrets Manager", Operation: "ListSecrets", Calls: 1},
			},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ApplySummary(&b, "Apply", tc.res); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name), b.Bytes())
		})
	}
}
