package secretsmanager_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"github.com/secretboot/secretboot/internal/fakeclock"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// listing renders what ListSecrets shows, including secrets scheduled for
// deletion: "name tag=value current=<version>" per secret, sorted.
func listing(t *testing.T, c *sm.Client) []string {
	t.Helper()
	var out []string
	p := sm.NewListSecretsPaginator(c, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.SecretList {
			line := aws.ToString(e.Name)
			for _, tag := range e.Tags {
				line += fmt.Sprintf(" %s=%s", aws.ToString(tag.Key), aws.ToString(tag.Value))
			}
			for id, stages := range e.SecretVersionsToStages {
				if slices.Contains(stages, "AWSCURRENT") {
					line += " current=" + id
				}
			}
			if e.DeletedDate != nil {
				line += " deleted"
			}
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// TestListingLag: with a listing lag, ListSecrets shows each secret as it
// was that long ago — new secrets missing, tags and current versions old,
// deleted secrets still there — while calls by ID see every write at once;
// once the lag has passed, the listing has caught up.
func TestListingLag(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(t0)
	env := sandboxtest.Start(t, sandbox.Options{Now: clock.Now})
	c := sm.NewFromConfig(env.Config)

	version := func(token string) *string { return aws.String(strings.Repeat(token, 36)) }
	put := func(name, token string) {
		t.Helper()
		if _, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("v-" + token), ClientRequestToken: version(token)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"kept", "retagged", "rewritten", "doomed"} {
		if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v1"), ClientRequestToken: version("1")}); err != nil {
			t.Fatal(err)
		}
	}
	before := []string{
		"doomed current=" + *version("1"),
		"kept current=" + *version("1"),
		"retagged current=" + *version("1"),
		"rewritten current=" + *version("1"),
	}
	if diff := cmp.Diff(before, listing(t, c)); diff != "" {
		t.Fatalf("listing without lag (-want +got):\n%s", diff)
	}

	env.Server.SetFaults(sandbox.Faults{ListingLag: time.Minute})
	if diff := cmp.Diff(before, listing(t, c)); diff != "" {
		t.Fatalf("turning the lag on must keep the present state listed (-want +got):\n%s", diff)
	}
	clock.Advance(10 * time.Second)
	create(t, c, "fresh", "v1")
	if _, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("retagged"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}); err != nil {
		t.Fatal(err)
	}
	put("rewritten", "2")
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("doomed"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}

	// Calls by ID are consistent at once.
	if _, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("fresh")}); err != nil {
		t.Errorf("DescribeSecret of a new secret under a listing lag: %v", err)
	}
	if _, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("doomed")}); code(t, err) != "ResourceNotFoundException" {
		t.Errorf("DescribeSecret of a deleted secret under a listing lag: %v", err)
	}
	// The listing is not, until the lag has passed since the writes.
	clock.Advance(59 * time.Second)
	if diff := cmp.Diff(before, listing(t, c)); diff != "" {
		t.Errorf("listing 59s after the writes (-want +got):\n%s", diff)
	}
	clock.Advance(time.Second)
	after := []string{
		"fresh current=" + aws.ToString(describe(t, c, "fresh")),
		"kept current=" + *version("1"),
		"retagged team=web current=" + *version("1"),
		"rewritten current=" + *version("2"),
	}
	if diff := cmp.Diff(after, listing(t, c)); diff != "" {
		t.Errorf("listing a minute after the writes (-want +got):\n%s", diff)
	}

	// Turning the lag off shows the present at once.
	clock.Advance(time.Second)
	put("kept", "3")
	after[1] = "kept current=" + *version("3")
	env.Server.SetFaults(sandbox.Faults{})
	if diff := cmp.Diff(after, listing(t, c)); diff != "" {
		t.Errorf("listing with the lag off (-want +got):\n%s", diff)
	}
}

// describe returns the current version of a secret.
func describe(t *testing.T, c *sm.Client, name string) *string {
	t.Helper()
	d, err := c.DescribeSecret(context.Background(), &sm.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for id, stages := range d.VersionIdsToStages {
		if slices.Contains(stages, "AWSCURRENT") {
			return aws.String(id)
		}
	}
	t.Fatalf("%s has no current version", name)
	return nil
}
