package sandboxtest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/secretboot/secretboot/sandbox"
)

// Env is a running sandbox and an SDK configuration for it.
type Env struct {
	Server *sandbox.Server
	URL    string     // base URL of the endpoint, http://127.0.0.1:port
	Config aws.Config // admin credentials, the sandbox's region, BaseEndpoint = URL, fast retries
}

// Start starts a sandbox with opts for the duration of the test.
func Start(t testing.TB, opts sandbox.Options) *Env {
	t.Helper()
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("starting sandbox: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing sandbox: %v", err)
		}
	})
	region := opts.Region
	if region == "" {
		region = "us-east-1"
	}
	id, secret := srv.AdminCredentials()
	return &Env{
		Server: srv,
		URL:    ts.URL,
		Config: Config(ts.URL, region, credentials.NewStaticCredentialsProvider(id, secret, "")),
	}
}

// Config returns an SDK configuration for a sandbox at url with the given
// credentials, e.g. those that STS AssumeRole returned. Retries keep the
// standard retryer's rules (which errors, three attempts) with millisecond
// backoff and no client-side retry quota, so that fault and throttling tests
// stay fast and deterministic.
func Config(url, region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  creds,
		BaseEndpoint: aws.String(url),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
				o.RateLimiter = ratelimit.None
			})
		},
	}
}
