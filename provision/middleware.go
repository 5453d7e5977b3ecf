package provision

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// limiters holds one token bucket per API group at the published AWS
// quotas (AWS-FACTS §6), so a large apply slows itself down instead of
// burning retries on ThrottlingException. IAM publishes no rate: writes
// get iamWrite a second (ConnectOptions.IAMWriteRate, by default
// DefaultIAMWriteRate, a conservative share of the account-wide bucket),
// reads (Get*, List*) 100/s, and simulations 10/s, as AWS asks not to
// burst them.
type limiters struct {
	groups map[string]*rate.Limiter // by group name
	ops    map[string]string        // "service/operation" → group
}

func newLimiters(iamWrite float64) *limiters {
	l := &limiters{groups: map[string]*rate.Limiter{}, ops: map[string]string{}}
	group := func(name string, perSecond float64, ops ...string) {
		l.groups[name] = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
		for _, op := range ops {
			l.ops[op] = name
		}
	}
	group("sm-create", 50, "Secrets Manager/CreateSecret")
	group("sm-delete", 50, "Secrets Manager/DeleteSecret")
	group("sm-write", 50, "Secrets Manager/PutSecretValue", "Secrets Manager/UpdateSecret", "Secrets Manager/UpdateSecretVersionStage")
	group("sm-restore", 50, "Secrets Manager/RestoreSecret")
	group("sm-tag", 50, "Secrets Manager/TagResource", "Secrets Manager/UntagResource")
	// The resource-policy calls share one 50/s quota (AWS-FACTS §6), as the
	// sandbox enforces; ValidateResourcePolicy is one of them.
	group("sm-policy", 50, "Secrets Manager/GetResourcePolicy", "Secrets Manager/PutResourcePolicy",
		"Secrets Manager/DeleteResourcePolicy", "Secrets Manager/ValidateResourcePolicy")
	group("sm-list", 100, "Secrets Manager/ListSecrets")
	group("iam", iamWrite)
	group("iam-read", 100)
	group("iam-simulate", 10)
	return l
}

func (l *limiters) forOp(service, op string) *rate.Limiter {
	if g, ok := l.ops[service+"/"+op]; ok {
		return l.groups[g]
	}
	if service == "IAM" {
		switch {
		case strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "List"):
			return l.groups["iam-read"]
		case strings.HasPrefix(op, "Simulate"):
			return l.groups["iam-simulate"]
		}
		return l.groups["iam"]
	}
	return nil
}

// addRateLimit waits for a token before every attempt (it sits after the
// retry middleware, so retries pay too).
func addRateLimit(l *limiters) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("secretboot.RateLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if lim := l.forOp(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)); lim != nil {
					if err := lim.Wait(ctx); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
				}
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	}
}

// loggedBodies lists the exchanges whose bodies may be logged. It is an
// allow-list: Secrets Manager calls that carry payloads, STS calls that
// return credentials and every other service (SSO, IMDS, …) stay redacted.
// The Secrets Manager operations listed are also the ones whose errors keep
// the endpoint's message (addEndpointErrors).
var loggedBodies = map[string]bool{
	"Secrets Manager/ListSecrets":              true,
	"Secrets Manager/DescribeSecret":           true,
	"Secrets Manager/TagResource":              true,
	"Secrets Manager/UntagResource":            true,
	"Secrets Manager/DeleteSecret":             true,
	"Secrets Manager/RestoreSecret":            true,
	"Secrets Manager/UpdateSecretVersionStage": true,
	"Secrets Manager/ListSecretVersionIds":     true,
	// Resource policies name principals and actions, never a payload.
	"Secrets Manager/GetResourcePolicy":      true,
	"Secrets Manager/PutResourcePolicy":      true,
	"Secrets Manager/DeleteResourcePolicy":   true,
	"Secrets Manager/ValidateResourcePolicy": true,
	"STS/GetCallerIdentity":                  true,
}

const redactedBody = "(redacted)"

// debugHTTPClient logs each HTTP exchange. Headers are never logged (they
// hold signatures and session tokens).
type debugHTTPClient struct {
	next aws.HTTPClient
	log  *slog.Logger
}

func httpClientOf(cfg aws.Config) aws.HTTPClient {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient
	}
	return awshttp.NewBuildableClient()
}

func (c *debugHTTPClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	show := loggedBodies[service+"/"+op] || service == "IAM"
	reqBody := redactedBody
	if show && req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		reqBody = string(b)
		if service == "IAM" || service == "STS" {
			// awsQuery forms are unreadable encoded (policy documents
			// especially); these bodies hold no secrets.
			if u, err := url.QueryUnescape(reqBody); err == nil {
				reqBody = u
			}
		}
	}
	start := time.Now()
	resp, err := c.next.Do(req)
	attrs := []slog.Attr{
		slog.String("service", service),
		slog.String("operation", op),
		// The retryer's own header: "attempt=2; max=8".
		slog.String("attempt", req.Header.Get("amz-sdk-request")),
		slog.String("method", req.Method),
		slog.String("url", req.URL.Redacted()),
		slog.String("request_body", reqBody),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "http exchange failed", attrs...)
		return resp, err
	}
	respBody := redactedBody
	if show && resp.Body != nil {
		b, rerr := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if rerr != nil {
			return resp, rerr
		}
		respBody = string(b)
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("response_body", respBody))
	c.log.LogAttrs(ctx, slog.LevelDebug, "http exchange", attrs...)
	return resp, nil
}

// detachedBodyClient hands the transport its own copy of each request body.
// smithy-go closes the body it built as soon as Do returns, which is when
// the response headers arrive; net/http's write loop may still be checking
// that body for bytes beyond its Content-Length at that moment, reads the
// closed body as an error, and closes the connection under the response
// body being read ("use of closed network connection"). A fast endpoint
// such as the sandbox makes that race frequent. Bodies are small (a
// payload is at most 64 KiB) and already in memory.
type detachedBodyClient struct{ next aws.HTTPClient }

func (c detachedBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.next.Do(req)
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	detached := req.Clone(req.Context())
	detached.Body = io.NopCloser(bytes.NewReader(b))
	detached.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.next.Do(detached)
}
