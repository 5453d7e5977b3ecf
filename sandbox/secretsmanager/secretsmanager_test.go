package secretsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey is a customer managed key every newClient sandbox has.
const testKey = "arn:aws:kms:us-east-1:000000000000:key/0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"

func newClient(t *testing.T) (*sm.Client, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(t0)
	env := sandboxtest.Start(t, sandbox.Options{Now: c.Now, KMSKeys: []string{testKey}})
	return sm.NewFromConfig(env.Config), c
}

// code returns the API error code of err, or "" for nil.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

func create(t *testing.T, c *sm.Client, name, value string) *sm.CreateSecretOutput {
	t.Helper()
	out, err := c.CreateSecret(context.Background(), &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return out
}

func TestCreateDescribeGet(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	out, err := c.CreateSecret(ctx, &sm.CreateSecretInput{
		Name:         aws.String("dev/app/db"),
		Description:  aws.String("primary database"),
		SecretString: aws.String(`{"password":"hunter2"}`),
		Tags:         []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("app"), Value: aws.String("shop")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/app/db-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/app/db-")+6 {
		t.Errorf("ARN = %q, want the name plus a 6-character suffix", arn)
	}
	if len(aws.ToString(out.VersionId)) != 36 {
		t.Errorf("VersionId = %q, want the SDK's UUID token", aws.ToString(out.VersionId))
	}

	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("dev/app/db")})
	if err != nil {
		t.Fatal(err)
	}
	type described struct {
		ARN, Name, Description string
		Tags                   map[string]string
		Stages                 map[string][]string
		Created, Changed       time.Time
		Deleted                *time.Time
	}
	got := described{
		ARN: aws.ToString(d.ARN), Name: aws.ToString(d.Name), Description: aws.ToString(d.Description),
		Tags: map[string]string{}, Stages: d.VersionIdsToStages,
		Created: aws.ToTime(d.CreatedDate), Changed: aws.ToTime(d.LastChangedDate), Deleted: d.DeletedDate,
	}
	for _, tg := range d.Tags {
		got.Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	want := described{
		ARN: arn, Name: "dev/app/db", Description: "primary database",
		Tags:    map[string]string{"team": "web", "app": "shop"},
		Stages:  map[string][]string{aws.ToString(out.VersionId): {"AWSCURRENT"}},
		Created: t0, Changed: t0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DescribeSecret (-want +got):\n%s", diff)
	}

	// By name, full ARN and partial ARN.
	for _, id := range []string{"dev/app/db", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue(%s): %v", id, err)
		}
		if got := aws.ToString(v.SecretString); got != `{"password":"hunter2"}` {
			t.Errorf("GetSecretValue(%s) = %q", id, got)
		}
		if diff := cmp.Diff([]string{"AWSCURRENT"}, v.VersionStages); diff != "" {
			t.Errorf("VersionStages: %s", diff)
		}
	}
	d, _ = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	if want := t0.Truncate(24 * time.Hour); !aws.ToTime(d.LastAccessedDate).Equal(want) {
		t.Errorf("LastAccessedDate = %v, want the day %v", d.LastAccessedDate, want)
	}
}

func TestBinaryAndLimits(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	bin := make([]byte, 65536)
	for i := range bin {
		bin[i] = byte(i)
	}
	if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin}); err != nil {
		t.Fatal(err)
	}
	v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("bin")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.SecretBinary, bin) || v.SecretString != nil {
		t.Errorf("binary round trip failed: %d bytes, string %v", len(v.SecretBinary), v.SecretString)
	}
	if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("max"), SecretString: aws.String(strings.Repeat("x", 65536))}); err != nil {
		t.Errorf("65,536-byte string: %v", err)
	}
}

func TestCreateSecretErrors(t *testing.T) {
	tags := func(n int, prefix string) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("%sk%d", prefix, i)), Value: aws.String("v")})
		}
		return out
	}
	tests := []struct {
		name string
		in   sm.CreateSecretInput
		want string
	}{
		// AWS answers ValidationException for a name with a space (recorded on
		// AWS: localstack test_invalid_secret_name snapshot).
		{"bad characters", sm.CreateSecretInput{Name: aws.String("a b")}, "ValidationException"},
		{"too long", sm.CreateSecretInput{Name: aws.String(strings.Repeat("a", 513))}, "InvalidParameterException"},
		{"suffix trap", sm.CreateSecretInput{Name: aws.String("app/db-config")}, "InvalidParameterException"},
		{"value too large", sm.CreateSecretInput{Name: aws.String("big"), SecretString: aws.String(strings.Repeat("x", 65537))}, "InvalidParameterException"},
		{"binary too large", sm.CreateSecretInput{Name: aws.String("big"), SecretBinary: make([]byte, 65537)}, "InvalidParameterException"},
		{"string and binary", sm.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("a"), SecretBinary: []byte("b")}, "InvalidParameterException"},
		{"description too long", sm.CreateSecretInput{Name: aws.String("d"), Description: aws.String(strings.Repeat("d", 2049))}, "InvalidParameterException"},
		{"50 tags", sm.CreateSecretInput{Name: aws.String("t50"), Tags: tags(50, "")}, ""},
		{"51 tags", sm.CreateSecretInput{Name: aws.String("t51"), Tags: tags(51, "")}, "InvalidParameterException"},
		{"reserved tag prefix", sm.CreateSecretInput{Name: aws.String("aws"), Tags: tags(1, "aws:")}, "InvalidParameterException"},
		{"exists", sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("other")}, "ResourceExistsException"},
		{"no value", sm.CreateSecretInput{Name: aws.String("empty")}, ""},
	}
	c, _ := newClient(t)
	create(t, c, "taken", "v")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateSecret(context.Background(), &tt.in)
			if got := code(t, err); got != tt.want {
				t.Errorf("error code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func TestErrorsNeverContainPayload(t *testing.T) {
	c, _ := newClient(t)
	const canary = "CANARY-payload-7f3a"
	create(t, c, "x", canary)
	for _, in := range []*sm.PutSecretValueInput{
		{SecretId: aws.String("x"), SecretString: aws.String(canary), SecretBinary: []byte(canary)},
		{SecretId: aws.String("missing"), SecretString: aws.String(canary)},
		{SecretId: aws.String("x"), SecretString: aws.String(canary + strings.Repeat("x", 65536))},
	} {
		_, err := c.PutSecretValue(context.Background(), in)
		if err == nil || strings.Contains(err.Error(), canary) {
			t.Errorf("PutSecretValue error = %v, want an error without the payload", err)
		}
	}
}

func TestClientRequestToken(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	tok := func(n int) *string { return aws.String(fmt.Sprintf("%032d", n)) }

	out, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: tok(1)})
	if err != nil {
		t.Fatal(err)
	}
	// A retried CreateSecret with the same token and value succeeds.
	again, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: tok(1)})
	if err != nil {
		t.Fatalf("retried CreateSecret: %v", err)
	}
	if *again.ARN != *out.ARN || *again.VersionId != *tok(1) {
		t.Errorf("retried CreateSecret = %s %s, want %s %s", *again.ARN, *again.VersionId, *out.ARN, *tok(1))
	}
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("other"), ClientRequestToken: tok(1)})
	if got := code(t, err); got != "ResourceExistsException" {
		t.Errorf("CreateSecret same token, other value: %q", got)
	}

	put := func(n int, value string) (*sm.PutSecretValueOutput, error) {
		return c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(value), ClientRequestToken: tok(n)})
	}
	stages := func() map[string][]string {
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		return d.VersionIdsToStages
	}
	if _, err := put(2, "v2"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{*tok(1): {"AWSPREVIOUS"}, *tok(2): {"AWSCURRENT"}}
	if diff := cmp.Diff(want, stages()); diff != "" {
		t.Errorf("after a new version (-want +got):\n%s", diff)
	}
	// Same token and data as an older version: ignored, AWSCURRENT stays.
	o, err := put(1, "v1")
	if err != nil {
		t.Fatalf("replayed PutSecretValue: %v", err)
	}
	if diff := cmp.Diff([]string{"AWSPREVIOUS"}, o.VersionStages); diff != "" {
		t.Errorf("replayed PutSecretValue stages: %s", diff)
	}
	if diff := cmp.Diff(want, stages()); diff != "" {
		t.Errorf("a replayed token moved stages (-want +got):\n%s", diff)
	}
	// Same token, different data.
	if _, err := put(2, "changed"); code(t, err) != "ResourceExistsException" {
		t.Errorf("PutSecretValue same token, other value: %v", err)
	}
	if _, err := put(3, "v3"); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{*tok(2): {"AWSPREVIOUS"}, *tok(3): {"AWSCURRENT"}}
	if diff := cmp.Diff(want, stages()); diff != "" {
		t.Errorf("after a third version (-want +got):\n%s", diff)
	}
	v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(v.SecretString) != "v2" {
		t.Errorf("AWSPREVIOUS = %v, %v", v, err)
	}
	v, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: tok(1)})
	if err != nil || aws.ToString(v.SecretString) != "v1" || len(v.VersionStages) != 0 {
		t.Errorf("deprecated version by id = %v, %v", v, err)
	}
	// PutSecretValue with a custom label leaves AWSCURRENT alone.
	o, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v4"), ClientRequestToken: tok(4), VersionStages: []string{"PENDING"}})
	if err != nil || !slices.Equal(o.VersionStages, []string{"PENDING"}) {
		t.Fatalf("PutSecretValue PENDING = %v, %v", o, err)
	}
	want[*tok(4)] = []string{"PENDING"}
	if diff := cmp.Diff(want, stages()); diff != "" {
		t.Errorf("after a PENDING version (-want +got):\n%s", diff)
	}
}

func TestUpdateSecretVersionStage(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	v1 := *create(t, c, "s", "one").VersionId
	p, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	v2 := *p.VersionId
	stages := func() map[string][]string {
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		return d.VersionIdsToStages
	}
	tests := []struct {
		name string
		in   sm.UpdateSecretVersionStageInput
		code string
		want map[string][]string
	}{
		{"move without naming the holder", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &v1},
			"InvalidParameterException", map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}}},
		{"roll back", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: &v1, RemoveFromVersionId: &v2},
			"", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}}},
		{"remove AWSCURRENT alone", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: &v1},
			"InvalidParameterException", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}}},
		{"add a custom label", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("BLUE"), MoveToVersionId: &v2},
			"", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS", "BLUE"}}},
		{"remove a label it does not have", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("BLUE"), RemoveFromVersionId: &v1},
			"InvalidParameterException", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS", "BLUE"}}},
		{"remove a custom label", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("BLUE"), RemoveFromVersionId: &v2},
			"", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}}},
		{"unknown version", sm.UpdateSecretVersionStageInput{VersionStage: aws.String("BLUE"), MoveToVersionId: aws.String(strings.Repeat("0", 32))},
			"InvalidParameterException", map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.SecretId = aws.String("s")
			_, err := c.UpdateSecretVersionStage(ctx, &tt.in)
			if got := code(t, err); got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
			if diff := cmp.Diff(tt.want, stages()); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateSecret(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "one")
	out, err := c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), Description: aws.String("new"), KmsKeyId: aws.String(testKey)})
	if err != nil || out.VersionId != nil {
		t.Fatalf("UpdateSecret metadata only = %+v, %v; want no VersionId", out, err)
	}
	out, err = c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil || out.VersionId == nil {
		t.Fatalf("UpdateSecret value = %+v, %v", out, err)
	}
	d, _ := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	if aws.ToString(d.Description) != "new" || aws.ToString(d.KmsKeyId) != testKey || !slices.Equal(d.VersionIdsToStages[*out.VersionId], []string{"AWSCURRENT"}) {
		t.Errorf("after UpdateSecret: %+v", d)
	}
	_, err = c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("nope"), Description: aws.String("x")})
	if got := code(t, err); got != "ResourceNotFoundException" {
		t.Errorf("UpdateSecret missing: %q", got)
	}
}

func TestGetSecretValueErrors(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	v1 := create(t, c, "s", "v").VersionId
	if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("novalue")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   sm.GetSecretValueInput
		want string
	}{
		{"missing secret", sm.GetSecretValueInput{SecretId: aws.String("nope")}, "ResourceNotFoundException"},
		{"secret without a value", sm.GetSecretValueInput{SecretId: aws.String("novalue")}, "ResourceNotFoundException"},
		{"unknown stage", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")}, "ResourceNotFoundException"},
		{"unknown version", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(strings.Repeat("1", 32))}, "ResourceNotFoundException"},
		{"malformed version", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String("short")}, "InvalidParameterException"},
		// A VersionStage that the VersionId does not carry (recorded on
		// AWS: localstack test_get_secret_value_errors snapshot).
		{"stage not on version", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: v1, VersionStage: aws.String("AWSPREVIOUS")}, "InvalidRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GetSecretValue(ctx, &tt.in)
			if got := code(t, err); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeleteAndRestore(t *testing.T) {
	c, clk := newClient(t)
	ctx := context.Background()
	arn := *create(t, c, "s", "v").ARN
	clk.Advance(time.Second)
	create(t, c, "keep", "v")

	for _, tt := range []struct {
		name string
		in   sm.DeleteSecretInput
	}{
		{"window too short", sm.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(6)}},
		{"window too long", sm.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(31)}},
		{"window and force", sm.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.SecretId = aws.String("s")
			if _, err := c.DeleteSecret(ctx, &tt.in); code(t, err) != "InvalidParameterException" {
				t.Errorf("DeleteSecret = %v, want InvalidParameterException", err)
			}
		})
	}

	del, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	deletion := t0.Add(time.Second + 7*24*time.Hour)
	if !aws.ToTime(del.DeletionDate).Equal(deletion) {
		t.Errorf("DeletionDate = %v, want %v", del.DeletionDate, deletion)
	}
	scheduled := []struct {
		name string
		call func() error
		want string
	}{
		{"get value", func() error {
			_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
			return err
		}, "InvalidRequestException"},
		{"put value", func() error {
			_, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
			return err
		}, "InvalidRequestException"},
		{"create same name", func() error {
			_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("x")})
			return err
		}, "InvalidRequestException"},
		{"delete again", func() error {
			_, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s")})
			return err
		}, "InvalidRequestException"},
		{"describe", func() error {
			d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
			if err == nil && !aws.ToTime(d.DeletedDate).Equal(deletion) {
				return fmt.Errorf("DeletedDate = %v", d.DeletedDate)
			}
			return err
		}, ""},
	}
	for _, tt := range scheduled {
		t.Run("scheduled/"+tt.name, func(t *testing.T) {
			if got := code(t, tt.call()); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
	if got := listNames(t, c, &sm.ListSecretsInput{}); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("ListSecrets = %v, want the scheduled secret left out", got)
	}
	if got := listNames(t, c, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)}); !slices.Equal(got, []string{"s", "keep"}) {
		t.Errorf("ListSecrets IncludePlannedDeletion = %v", got)
	}

	r, err := c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("s")})
	if err != nil || *r.ARN != arn {
		t.Fatalf("RestoreSecret = %v, %v", r, err)
	}
	if v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")}); err != nil || *v.SecretString != "v" {
		t.Errorf("after restore: %v, %v", v, err)
	}

	// The window ends: the secret is gone and the name is free, with a new ARN.
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(7 * 24 * time.Hour)
	if _, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)}); code(t, err) != "ResourceNotFoundException" {
		t.Errorf("after the window: %v", err)
	}
	if again := create(t, c, "s", "new"); *again.ARN == arn {
		t.Errorf("re-created secret kept the old ARN %s", arn)
	}

	// Force deletion is immediate, also for a scheduled secret.
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("keep")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("keep"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("keep")}); code(t, err) != "ResourceNotFoundException" {
		t.Errorf("restore after force delete: %v", err)
	}
}

func listNames(t *testing.T, c *sm.Client, in *sm.ListSecretsInput) []string {
	t.Helper()
	var names []string
	p := sm.NewListSecretsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
		for _, e := range page.SecretList {
			names = append(names, aws.ToString(e.Name))
		}
	}
	return names
}

func TestListSecretsPaginator(t *testing.T) {
	c, clk := newClient(t)
	ctx := context.Background()
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("dev/s%d", i)
		create(t, c, name, "v")
		want = append(want, name)
		clk.Advance(time.Second)
	}
	p := sm.NewListSecretsPaginator(c, &sm.ListSecretsInput{MaxResults: aws.Int32(2)})
	var got []string
	var pages []int
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page.SecretList))
		for _, e := range page.SecretList {
			got = append(got, *e.Name)
			if len(e.SecretVersionsToStages) != 1 || e.CreatedDate == nil || e.ARN == nil {
				t.Errorf("entry %s lacks SecretVersionsToStages, CreatedDate or ARN: %+v", *e.Name, e)
			}
		}
		if len(pages) == 3 && page.NextToken != nil {
			t.Errorf("last page has NextToken %q", *page.NextToken)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, pages); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	slices.Reverse(want)
	if diff := cmp.Diff(want, listNames(t, c, &sm.ListSecretsInput{SortOrder: types.SortOrderTypeDesc, MaxResults: aws.Int32(2)})); diff != "" {
		t.Errorf("descending (-want +got):\n%s", diff)
	}
	for _, in := range []*sm.ListSecretsInput{
		{NextToken: aws.String("!!not a token")},
		{MaxResults: aws.Int32(101)},
		{Filters: []types.Filter{{Key: "color", Values: []string{"x"}}}},
		{Filters: []types.Filter{{Key: "name", Values: []string{}}}},
	} {
		_, err := c.ListSecrets(ctx, in)
		if got := code(t, err); got != "InvalidParameterException" && got != "InvalidNextTokenException" {
			t.Errorf("ListSecrets(%+v) = %v, want a parameter error", in, err)
		}
	}
}

func TestListSecretsFilters(t *testing.T) {
	c, clk := newClient(t)
	ctx := context.Background()
	for _, s := range []struct {
		name, desc string
		tags       map[string]string
	}{
		{"dev/app/db", "Primary database", map[string]string{"secretboot:stage": "dev", "team": "web"}},
		{"dev/app/stripe", "payments", map[string]string{"secretboot:stage": "dev"}},
		{"prod/app/db", "primary database", map[string]string{"secretboot:stage": "prod"}},
		{"other", "", nil},
	} {
		in := &sm.CreateSecretInput{Name: aws.String(s.name), SecretString: aws.String("v")}
		if s.desc != "" {
			in.Description = aws.String(s.desc)
		}
		for k, v := range s.tags {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := c.CreateSecret(ctx, in); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	f := func(key types.FilterNameStringType, values ...string) types.Filter {
		return types.Filter{Key: key, Values: values}
	}
	tests := []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"name prefix", []types.Filter{f("name", "dev/")}, []string{"dev/app/db", "dev/app/stripe"}},
		{"name is case-sensitive", []types.Filter{f("name", "DEV/")}, nil},
		{"name values are ORed", []types.Filter{f("name", "prod/", "other")}, []string{"prod/app/db", "other"}},
		{"negation", []types.Filter{f("name", "!dev/")}, []string{"prod/app/db", "other"}},
		{"filters are ANDed", []types.Filter{f("name", "dev/"), f("tag-key", "team")}, []string{"dev/app/db"}},
		{"tag value", []types.Filter{f("tag-key", "secretboot:stage"), f("tag-value", "prod")}, []string{"prod/app/db"}},
		{"description ignores case", []types.Filter{f("description", "PRIMARY")}, []string{"dev/app/db", "prod/app/db"}},
		{"all", []types.Filter{f("all", "pay")}, []string{"dev/app/stripe"}},
		// The description filter matches words of the description, in any
		// order ("My Description" matches "Description of my secret": Find
		// secrets in AWS Secrets Manager, user guide, "Search filters").
		{"description matches a later word", []types.Filter{f("description", "data")}, []string{"dev/app/db", "prod/app/db"}},
		{"description words in any order", []types.Filter{f("description", "database prim")}, []string{"dev/app/db", "prod/app/db"}},
		{"description needs every word", []types.Filter{f("description", "primary payments")}, nil},
		{"description word prefix only", []types.Filter{f("description", "base")}, nil},
		{"negated tag key", []types.Filter{f("tag-key", "!secretboot:")}, []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listNames(t, c, &sm.ListSecretsInput{Filters: tt.filters})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestListSecretVersionIds(t *testing.T) {
	c, clk := newClient(t)
	ctx := context.Background()
	var ids []string
	ids = append(ids, *create(t, c, "s", "v0").VersionId)
	for i := 1; i < 4; i++ {
		clk.Advance(time.Minute)
		p, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *p.VersionId)
	}
	list := func(deprecated bool) []string {
		var got []string
		p := sm.NewListSecretVersionIdsPaginator(c, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(deprecated), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Versions {
				got = append(got, fmt.Sprint(*v.VersionId, v.VersionStages))
			}
		}
		return got
	}
	want := []string{fmt.Sprint(ids[3], []string{"AWSCURRENT"}), fmt.Sprint(ids[2], []string{"AWSPREVIOUS"})}
	if diff := cmp.Diff(want, list(false)); diff != "" {
		t.Errorf("labelled versions (-want +got):\n%s", diff)
	}
	want = append(want, fmt.Sprint(ids[1], []string{}), fmt.Sprint(ids[0], []string{}))
	if diff := cmp.Diff(want, list(true)); diff != "" {
		t.Errorf("all versions (-want +got):\n%s", diff)
	}
}

func TestTags(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "v")
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	if _, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: []types.Tag{tag("b", "1"), tag("a", "2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: []types.Tag{tag("b", "3")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("s"), TagKeys: []string{"a", "never-there"}}); err != nil {
		t.Fatalf("untag of a missing key: %v", err)
	}
	d, _ := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	if diff := cmp.Diff([]types.Tag{tag("b", "3")}, d.Tags, cmp.AllowUnexported(types.Tag{})); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	var many []types.Tag
	for i := range 50 {
		many = append(many, tag(fmt.Sprint("k", i), "v"))
	}
	_, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: many})
	if got := code(t, err); got != "InvalidParameterException" {
		t.Errorf("51st tag: %q", got)
	}
	_, err = c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("nope"), Tags: []types.Tag{tag("a", "b")}})
	if got := code(t, err); got != "ResourceNotFoundException" {
		t.Errorf("tag missing secret: %q", got)
	}
}

func TestResourcePolicy(t *testing.T) {
	clk := fakeclock.New(t0)
	env := sandboxtest.Start(t, sandbox.Options{Now: clk.Now})
	c := sm.NewFromConfig(env.Config)
	ctx := context.Background()
	create(t, c, "s", "v")
	const ghost = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/ghost"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	// Secrets Manager refuses principals IAM does not know.
	if _, err := iam.NewFromConfig(env.Config).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	const role = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	const public = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	tests := []struct {
		name   string
		policy string
		block  bool
		want   string
	}{
		{"malformed JSON", `{"Version":`, false, "MalformedPolicyDocumentException"},
		{"unknown element", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"x"}]}`, false, "MalformedPolicyDocumentException"},
		{"public blocked", public, true, "PublicPolicyException"},
		{"public allowed", public, false, ""},
		{"unknown role", ghost, true, "MalformedPolicyDocumentException"},
		{"role", role, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String(tt.policy), BlockPublicPolicy: aws.Bool(tt.block)})
			if got := code(t, err); got != tt.want {
				t.Errorf("code = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
	g, err := c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("s")})
	if err != nil || aws.ToString(g.ResourcePolicy) != role {
		t.Errorf("GetResourcePolicy = %v, %v", g, err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	g, err = c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("s")})
	if err != nil || g.ResourcePolicy != nil || aws.ToString(g.Name) != "s" {
		t.Errorf("GetResourcePolicy after delete = %+v, %v", g, err)
	}
}

func TestGetRandomPassword(t *testing.T) {
	c, _ := newClient(t)
	tests := []struct {
		name  string
		in    sm.GetRandomPasswordInput
		len   int
		check func(string) bool
		code  string
	}{
		{"default", sm.GetRandomPasswordInput{}, 32, func(p string) bool {
			return strings.ContainsAny(p, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(p, "0123456789") && !strings.Contains(p, " ")
		}, ""},
		{"digits only", sm.GetRandomPasswordInput{PasswordLength: aws.Int64(64), ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}, 64,
			func(p string) bool { return strings.Trim(p, "0123456789") == "" }, ""},
		{"excluded characters", sm.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludeCharacters: aws.String("abcdef0123")}, 200,
			func(p string) bool { return !strings.ContainsAny(p, "abcdef0123") }, ""},
		{"with space", sm.GetRandomPasswordInput{PasswordLength: aws.Int64(12), IncludeSpace: aws.Bool(true)}, 12,
			func(p string) bool { return strings.Contains(p, " ") }, ""},
		{"too long", sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)}, 0, nil, "InvalidParameterException"},
		{"nothing left", sm.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludePunctuation: aws.Bool(true), ExcludeNumbers: aws.Bool(true)}, 0, nil, "InvalidParameterException"},
		{"too short for each type", sm.GetRandomPasswordInput{PasswordLength: aws.Int64(3)}, 0, nil, "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.GetRandomPassword(context.Background(), &tt.in)
			if got := code(t, err); got != tt.code {
				t.Fatalf("code = %q, want %q", got, tt.code)
			}
			if err != nil {
				return
			}
			p := aws.ToString(out.RandomPassword)
			if len(p) != tt.len || !tt.check(p) {
				t.Errorf("password %q: wrong length or characters", p)
			}
		})
	}
}

func TestBatchGetSecretValue(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	for i := range 5 {
		create(t, c, fmt.Sprintf("dev/s%d", i), fmt.Sprint("v", i))
	}
	out, err := c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"dev/s1", "nope", "dev/s3"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range out.SecretValues {
		got = append(got, *v.Name+"="+*v.SecretString)
	}
	for _, e := range out.Errors {
		got = append(got, *e.SecretId+":"+*e.ErrorCode)
	}
	if diff := cmp.Diff([]string{"dev/s1=v1", "dev/s3=v3", "nope:ResourceNotFoundException"}, got); diff != "" {
		t.Errorf("by ID (-want +got):\n%s", diff)
	}

	got = nil
	p := sm.NewBatchGetSecretValuePaginator(c, &sm.BatchGetSecretValueInput{Filters: []types.Filter{{Key: "name", Values: []string{"dev/"}}}, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.SecretValues {
			got = append(got, *v.Name)
		}
	}
	if diff := cmp.Diff([]string{"dev/s0", "dev/s1", "dev/s2", "dev/s3", "dev/s4"}, got); diff != "" {
		t.Errorf("by filter (-want +got):\n%s", diff)
	}
	for _, in := range []*sm.BatchGetSecretValueInput{
		{},
		{SecretIdList: []string{"a"}, Filters: []types.Filter{{Key: "name", Values: []string{"a"}}}},
		{SecretIdList: []string{"a"}, MaxResults: aws.Int32(1)},
		{SecretIdList: make([]string, 21)},
	} {
		if _, err := c.BatchGetSecretValue(ctx, in); code(t, err) != "InvalidParameterException" {
			t.Errorf("BatchGetSecretValue(%+v) = %v, want InvalidParameterException", in, err)
		}
	}
}

func TestVersionPruning(t *testing.T) {
	c, clk := newClient(t)
	ctx := context.Background()
	create(t, c, "s", "v")
	count := func() int {
		n := 0
		p := sm.NewListSecretVersionIdsPaginator(c, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Versions)
		}
		return n
	}
	put := func(i int) {
		if _, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 104 {
		put(i)
	}
	// Young deprecated versions are kept beyond the limit.
	if got := count(); got != 105 {
		t.Errorf("versions = %d, want all 105 while younger than a day", got)
	}
	clk.Advance(25 * time.Hour)
	put(999)
	if got := count(); got != 100 {
		t.Errorf("versions = %d, want 100 after pruning", got)
	}
}
