// Command app is the application side of the webapp example: a service on an
// EC2 instance that reads its database credentials from Secrets Manager with
// the instance role, through the SDK's default credential chain (on EC2 that
// ends at IMDS; locally, env vars or a profile).
//
// It prints only the non-secret host field, and turns each Secrets Manager
// error into what an operator should do about it.
//
//	app [-secret-id dev/app/db/credentials] [-region us-east-1]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// secretReader is the one Secrets Manager call the app makes.
type secretReader interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("app", flag.ContinueOnError)
	flags.SetOutput(stderr)
	secretID := flags.String("secret-id", envOr("SECRET_ID", "dev/app/db/credentials"), "name or ARN of the credentials secret (env SECRET_ID)")
	region := flags.String("region", "", "AWS region (default: from the environment or profile)")
	if err := flags.Parse(args); err != nil {
		return 2
	}

	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "app: loading AWS configuration: %v\n", err)
		return 1
	}
	host, err := readHost(ctx, secretsmanager.NewFromConfig(cfg), *secretID)
	if err != nil {
		fmt.Fprintf(stderr, "app: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "database host: %s\n", host)
	return 0
}

// readHost fetches the credentials and returns only their host field. The
// rest of the payload (username, password) stays in this function.
func readHost(ctx context.Context, client secretReader, secretID string) (string, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return "", explain(secretID, err)
	}
	var creds struct {
		Host string `json:"host"`
	}
	// The decode error is not wrapped: json errors can quote the input.
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &creds); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object with a host field", secretID)
	}
	if creds.Host == "" {
		return "", fmt.Errorf("secret %s has no host field", secretID)
	}
	return creds.Host, nil
}

// explain maps each error GetSecretValue can return to advice. AccessDenied
// is never confused with "not found": they need different fixes.
func explain(secretID string, err error) error {
	var (
		notFound   *types.ResourceNotFoundException
		invalidReq *types.InvalidRequestException
		invalidPar *types.InvalidParameterException
		decrypt    *types.DecryptionFailure
		apiErr     smithy.APIError
	)
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("secret %s does not exist in this account and region (or has no value yet): check the name and AWS_REGION, and that secretboot apply ran for this stage", secretID)
	case errors.As(err, &decrypt):
		return fmt.Errorf("secret %s cannot be decrypted: the instance role needs kms:Decrypt on the secret's KMS key (via secretsmanager); run secretboot plan to see the policy", secretID)
	case errors.As(err, &invalidReq):
		return fmt.Errorf("secret %s cannot be read now (%s): it may be scheduled for deletion; secretboot apply restores secrets that are still in the spec", secretID, invalidReq.ErrorMessage())
	case errors.As(err, &invalidPar):
		return fmt.Errorf("the request for %s was rejected as invalid (%s): check the secret id", secretID, invalidPar.ErrorMessage())
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied"):
		return fmt.Errorf("access denied reading %s: this instance's role is not a reader of the secret; add the role to the secret's readers in the spec and apply (secretboot verify shows who can read what)", secretID)
	default:
		return fmt.Errorf("reading secret %s: %w", secretID, err)
	}
}

func envOr(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}
