package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// SecretsManagerAPI is the part of the Secrets Manager client the engine
// uses; *secretsmanager.Client satisfies it.
type SecretsManagerAPI interface {
	ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecret(context.Context, *secretsmanager.UpdateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	ListSecretVersionIds(context.Context, *secretsmanager.ListSecretVersionIdsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	TagResource(context.Context, *secretsmanager.TagResourceInput, ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	UntagResource(context.Context, *secretsmanager.UntagResourceInput, ...func(*secretsmanager.Options)) (*secretsmanager.UntagResourceOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	RestoreSecret(context.Context, *secretsmanager.RestoreSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
	RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
	CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error)
	GetResourcePolicy(context.Context, *secretsmanager.GetResourcePolicyInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error)
	PutResourcePolicy(context.Context, *secretsmanager.PutResourcePolicyInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutResourcePolicyOutput, error)
	DeleteResourcePolicy(context.Context, *secretsmanager.DeleteResourcePolicyInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteResourcePolicyOutput, error)
	ValidateResourcePolicy(context.Context, *secretsmanager.ValidateResourcePolicyInput, ...func(*secretsmanager.Options)) (*secretsmanager.ValidateResourcePolicyOutput, error)
	ReplicateSecretToRegions(context.Context, *secretsmanager.ReplicateSecretToRegionsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ReplicateSecretToRegionsOutput, error)
	RemoveRegionsFromReplication(context.Context, *secretsmanager.RemoveRegionsFromReplicationInput, ...func(*secretsmanager.Options)) (*secretsmanager.RemoveRegionsFromReplicationOutput, error)
}

// IAMAPI is the part of the IAM client the engine uses; *iam.Client
// satisfies it.
type IAMAPI interface {
	ListRoles(context.Context, *iam.ListRolesInput, ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	ListInstanceProfiles(context.Context, *iam.ListInstanceProfilesInput, ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListRolePolicies(context.Context, *iam.ListRolePoliciesInput, ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateRole(context.Context, *iam.UpdateRoleInput, ...func(*iam.Options)) (*iam.UpdateRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	DeleteRole(context.Context, *iam.DeleteRoleInput, ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	CreateInstanceProfile(context.Context, *iam.CreateInstanceProfileInput, ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error)
	AddRoleToInstanceProfile(context.Context, *iam.AddRoleToInstanceProfileInput, ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error)
	RemoveRoleFromInstanceProfile(context.Context, *iam.RemoveRoleFromInstanceProfileInput, ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error)
	DeleteInstanceProfile(context.Context, *iam.DeleteInstanceProfileInput, ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error)
	GetInstanceProfile(context.Context, *iam.GetInstanceProfileInput, ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	// A managed role's boundary and tags, converged (roleconverge.go).
	PutRolePermissionsBoundary(context.Context, *iam.PutRolePermissionsBoundaryInput, ...func(*iam.Options)) (*iam.PutRolePermissionsBoundaryOutput, error)
	TagRole(context.Context, *iam.TagRoleInput, ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	UntagRole(context.Context, *iam.UntagRoleInput, ...func(*iam.Options)) (*iam.UntagRoleOutput, error)

	// Customer managed policies, for read policies split beyond the inline
	// limit.
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
	GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	CreatePolicyVersion(context.Context, *iam.CreatePolicyVersionInput, ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	AttachRolePolicy(context.Context, *iam.AttachRolePolicyInput, ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(context.Context, *iam.DetachRolePolicyInput, ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	// GetAccountSummary reads the account's quota of managed policies per
	// role, for a split that needs more than IAM's default.
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	// GetOpenIDConnectProvider checks that the OIDC providers the managed
	// roles' trust names exist (observe_oidc.go).
	GetOpenIDConnectProvider(context.Context, *iam.GetOpenIDConnectProviderInput, ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	// GetAccountAuthorizationDetails reads every role and customer managed
	// policy of the account at once, in place of the per-role reads of a
	// stage with many roles (observe_account.go).
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// SimulatorAPI is IAM's policy simulator, which verify asks what each role
// may do; *iam.Client satisfies it.
type SimulatorAPI interface {
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// KMSAPI is the part of the KMS client secretboot uses: audit reads the
// key policies of the stage's customer managed keys. *kms.Client
// satisfies it.
type KMSAPI interface {
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// STSAPI is the part of the STS client the engine uses; *sts.Client
// satisfies it.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// ConnectOptions says how to reach AWS for one stage.
type ConnectOptions struct {
	Stage         string // names the assumed-role session: secretboot-<stage>
	Region        string // the stage's region; required
	AccountID     string // the stage's account_id; "" skips the account guard
	AssumeRoleARN string // the stage's assume_role_arn, assumed on top of the loaded credentials
	Profile       string // shared config profile (--profile); "" = the SDK default

	// Endpoint, when set, sends every service to one base URL (the sandbox).
	// Without it the SDK resolves endpoints itself, AWS_ENDPOINT_URL* included.
	Endpoint string
	// Credentials, when set, replaces the default credential chain (the
	// sandbox's admin key pair). Their Source names them in the plan header,
	// and no long-term-key warning is given: the caller chose them.
	Credentials aws.CredentialsProvider

	// Debug, when set, receives one record per SDK operation (duration,
	// attempts, retries, throttles), one per HTTP exchange (attempt number,
	// status, duration) and a per-operation summary at the end of an apply;
	// payload-carrying bodies are replaced by "(redacted)".
	Debug *slog.Logger
	// MaxAttempts bounds the SDK retryer per call; 0 means 8.
	MaxAttempts int
	// IAMWriteRate is how many IAM writes a second the session allows
	// itself (IAM publishes no quota; its writes share one account-wide
	// bucket). 0 means the environment variable SECRETBOOT_IAM_WRITE_RATE
	// when set, else DefaultIAMWriteRate. An apply with many roles is
	// bound by it (docs/performance.md); raise it only for an account
	// whose IAM write rate is known, with room for whatever else writes to
	// IAM there: a throttled write is retried, at the cost of an attempt.
	IAMWriteRate float64
	// Mask, when set, is called with a copy of every payload byte string
	// the engine obtains outside the spec, before anything could print it:
	// each generated value, each value written to or read from Secrets
	// Manager (the whole SecretString or SecretBinary, each string in a
	// JSON value, and a binary value's base64 form too), and the stage key
	// (its bytes and its base64 form). It must be safe for concurrent use.
	Mask func(secret []byte)
}

// testAPIOptions are SDK middleware that only a build with the leaktest tag
// adds (faults_leaktest.go), to make the engine fail in ways no endpoint
// can; secretboot as built and shipped has none.
var testAPIOptions []func(*middleware.Stack) error

// Identity is who the session acts as.
type Identity struct {
	Account          string
	ARN              string
	UserID           string
	CredentialSource string // aws.Credentials.Source of the resolved credentials
	LongTermKey      bool   // an AKIA access key: a role would be safer
}

// Session is an authenticated, account-checked connection to one stage's
// account and region.
type Session struct {
	Region         string
	Identity       Identity
	SecretsManager SecretsManagerAPI
	IAM            IAMAPI
	Simulator      SimulatorAPI // the same IAM client, for verify only
	STS            STSAPI
	KMS            KMSAPI // for audit only

	calls *callCounter
	debug *slog.Logger
	mask  func([]byte) // ConnectOptions.Mask; nil = none
	// accountDenied remembers that the caller may not read the account's
	// IAM configuration at once, so that observe asks only once.
	accountDenied atomic.Bool
}

// CallStats returns the API calls the session has made so far, per
// operation, retries and throttles included.
func (s *Session) CallStats() CallStats { return s.calls.snapshot() }

// WrongAccountError reports that the credentials belong to another account
// than the stage pins; nothing else was called.
type WrongAccountError struct {
	Want, Got, CallerARN string
}

func (e *WrongAccountError) Error() string {
	return fmt.Sprintf("the stage is pinned to account %s but the credentials (%s) belong to account %s; refusing to continue", e.Want, e.CallerARN, e.Got)
}

// DefaultIAMWriteRate is the IAM writes a second a session allows itself
// unless told otherwise (ConnectOptions.IAMWriteRate).
const DefaultIAMWriteRate = 20

// MaxIAMWriteRate bounds the setting: a typo must not unleash an apply on
// an account's shared IAM bucket.
const MaxIAMWriteRate = 1000

// iamWriteRate is the session's IAM write rate: set, from the
// environment, or the default.
func iamWriteRate(set float64) (float64, error) {
	from := "ConnectOptions.IAMWriteRate"
	if set == 0 {
		v, ok := os.LookupEnv("SECRETBOOT_IAM_WRITE_RATE")
		if !ok || v == "" {
			return DefaultIAMWriteRate, nil
		}
		from = "SECRETBOOT_IAM_WRITE_RATE"
		var err error
		if set, err = strconv.ParseFloat(v, 64); err != nil {
			return 0, fmt.Errorf("%s=%q is not a number of IAM writes per second", from, v)
		}
	}
	if err := CheckIAMWriteRate(set); err != nil {
		return 0, fmt.Errorf("%s %v: %w", from, set, err)
	}
	return set, nil
}

// CheckIAMWriteRate refuses an IAM write rate outside 1–MaxIAMWriteRate
// writes a second; the caller names where the rate came from (the CLI its
// flag, before connecting).
func CheckIAMWriteRate(rate float64) error {
	if !(rate >= 1 && rate <= MaxIAMWriteRate) {
		return fmt.Errorf("it must be between 1 and %d IAM writes a second", MaxIAMWriteRate)
	}
	return nil
}

// Connect loads the AWS configuration (environment, shared profiles, SSO,
// web identity, IMDS), assumes the stage's role when it names one, asks STS
// who the caller is, and refuses a caller from another account than the
// stage's before any other call is made. It is one sequence of steps in
// the order a connection takes them, each needing the previous one.
func Connect(ctx context.Context, o ConnectOptions) (*Session, error) {
	if o.Region == "" {
		return nil, errors.New("connecting to AWS: the stage has no region")
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 8
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer {
			// The client-side rate limiters keep us under the quotas; the
			// retry token bucket would only turn a burst of injected 5xx
			// into hard failures, so it is off.
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	// The SDK's own logger writes to the process's stderr, past the CLI's
	// masked streams; its warnings go to the --debug log instead, or nowhere.
	loadOpts = append(loadOpts, config.WithLogger(sdkLogger(o.Debug)))
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.Endpoint != "" {
		loadOpts = append(loadOpts, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if o.AssumeRoleARN != "" {
		stsBase := sts.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsBase, o.AssumeRoleARN, func(p *stscreds.AssumeRoleOptions) {
			p.RoleSessionName = SessionName(o.Stage)
		}))
	}
	iamWrite, err := iamWriteRate(o.IAMWriteRate)
	if err != nil {
		return nil, err
	}
	calls := newCallCounter()
	cfg.APIOptions = append(cfg.APIOptions, addRateLimit(newLimiters(iamWrite)), addCallStats(calls, o.Debug))
	cfg.APIOptions = append(cfg.APIOptions, testAPIOptions...)
	cfg.HTTPClient = detachedBodyClient{next: httpClientOf(cfg)}
	if o.Debug != nil {
		cfg.HTTPClient = &debugHTTPClient{next: cfg.HTTPClient, log: o.Debug}
	}
	iamClient := iam.NewFromConfig(cfg)
	s := &Session{
		Region: o.Region,
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) {
			// Clipped: the slice is cfg's, which the other clients share.
			so.APIOptions = append(slices.Clip(so.APIOptions), addEndpointErrors)
			if o.Mask != nil {
				so.APIOptions = append(so.APIOptions, addPayloadMask(o.Mask))
			}
		}),
		IAM:       iamClient,
		Simulator: iamClient,
		STS:       sts.NewFromConfig(cfg),
		KMS:       kms.NewFromConfig(cfg),
		calls:     calls,
		debug:     o.Debug,
		mask:      o.Mask,
	}
	if err := s.identify(ctx, cfg.Credentials, o.AccountID, o.Credentials == nil); err != nil {
		return nil, err
	}
	return s, nil
}

// identify runs GetCallerIdentity and the account guard. fromChain says the
// credentials came from the default chain, where a long-term access key is
// worth a warning: a role would do.
func (s *Session) identify(ctx context.Context, creds aws.CredentialsProvider, wantAccount string, fromChain bool) error {
	out, err := s.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("asking STS who the caller is: %w", err)
	}
	s.Identity = Identity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}
	if wantAccount != "" && s.Identity.Account != wantAccount {
		return &WrongAccountError{Want: wantAccount, Got: s.Identity.Account, CallerARN: s.Identity.ARN}
	}
	if creds != nil {
		// The provider is cached, so this returns what signed the call above.
		c, err := creds.Retrieve(ctx)
		if err == nil {
			s.Identity.CredentialSource = c.Source
			s.Identity.LongTermKey = fromChain && strings.HasPrefix(c.AccessKeyID, "AKIA")
		}
	}
	return nil
}

// SessionName is the session name Connect gives the role it assumes:
// the deployer role's trust policy (cmd/secretboot's installers) requires
// it, so that CloudTrail names the stage behind every call.
func SessionName(stage string) string {
	n := "secretboot-" + stage
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// StaticCredentials is a convenience for callers holding a key pair (the
// sandbox's admin pair), for ConnectOptions.Credentials; source says where
// the keys come from, for the plan header ("" keeps the SDK's
// "StaticCredentials").
func StaticCredentials(accessKey, secretKey, sessionToken, source string) aws.CredentialsProvider {
	p := credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken)
	if source != "" {
		p.Value.Source = source
	}
	return p
}

// sdkLogger forwards the SDK's log lines (such as "falling back to IMDSv1")
// to the debug logger, which writes through the CLI's streams; without one
// they are dropped.
func sdkLogger(debug *slog.Logger) logging.Logger {
	if debug == nil {
		return logging.Nop{}
	}
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		debug.Debug(fmt.Sprintf(format, v...), slog.String("source", "aws-sdk"), slog.String("class", string(c)))
	})
}
