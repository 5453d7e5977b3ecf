package sandbox

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/secretboot/secretboot/sandbox/kms"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// Faults are the knobs that can change while the server runs.
type Faults struct {
	Latency, Jitter time.Duration // added to every request
	Quotas          bool          // enforce request-rate quotas
	FaultRate       float64       // fraction of requests answered with a 5xx, clamped to [0, 1]
	// ListingLag is how far Secrets Manager's ListSecrets lags writes. Turning
	// it on treats the present state as caught up.
	ListingLag time.Duration
	// IAMWriteRate is the IAM write quota, requests per second, when
	// Quotas is on; 0 means 20. AWS publishes none: this stands for the
	// account's, to measure an engine that writes at another rate
	// (provision.ConnectOptions.IAMWriteRate).
	IAMWriteRate float64
}

// SetFaults changes latency, quotas, fault rate and listing lag at run time.
// Turning quotas on starts every bucket full.
func (s *Server) SetFaults(f Faults) {
	s.knobs.set(f)
	s.sm.SetListingLag(f.ListingLag)
}

// Quotas, requests per second. Bucket capacity equals one second's rate,
// so a burst of up to that many requests passes at once.
//
// Secrets Manager rates are AWS's published ones (AWS-FACTS §6); operations
// without a published rate get 50/s. IAM and STS publish none; these rates
// are low enough that unbounded parallel writes get throttled, as they do
// on a real account.
var smQuotas = map[string]struct {
	group string
	rate  float64
}{
	"GetSecretValue":           {"GetSecretValue", 10000},
	"DescribeSecret":           {"DescribeSecret", 40000},
	"ListSecrets":              {"ListSecrets", 100},
	"CreateSecret":             {"CreateSecret", 50},
	"DeleteSecret":             {"DeleteSecret", 50},
	"PutSecretValue":           {"write", 50},
	"UpdateSecret":             {"write", 50},
	"UpdateSecretVersionStage": {"write", 50},
	"RestoreSecret":            {"RestoreSecret", 50},
	"TagResource":              {"tags", 50},
	"UntagResource":            {"tags", 50},
	"PutResourcePolicy":        {"policy", 50},
	"GetResourcePolicy":        {"policy", 50},
	"DeleteResourcePolicy":     {"policy", 50},
}

const (
	smDefaultRate = 50  // Secrets Manager operations without a published rate
	iamReadRate   = 100 // IAM Get*/List*
	iamWriteRate  = 20  // every other IAM operation
	iamSimulate   = 10  // SimulatePrincipalPolicy/SimulateCustomPolicy: AWS asks not to burst them
	stsRate       = 100 // each STS operation
)

// quotaFor returns the bucket name and rate of an operation.
func quotaFor(service, op string) (string, float64) {
	switch service {
	case "secretsmanager":
		if q, ok := smQuotas[op]; ok {
			return "secretsmanager." + q.group, q.rate
		}
		return "secretsmanager." + op, smDefaultRate
	case "sts":
		return "sts." + op, stsRate
	case "kms":
		return kmsQuota(op)
	}
	switch {
	case strings.HasPrefix(op, "Simulate"):
		return "iam.simulate", iamSimulate
	case strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "List"):
		return "iam.read", iamReadRate
	}
	return "iam.write", iamWriteRate
}

// kmsQuota returns the bucket and rate of a KMS operation, AWS's published
// request quotas (KMS developer guide, "Request quotas"): the symmetric
// cryptographic operations share 5,500/s (the lowest regional rate), and
// each management operation has its own.
func kmsQuota(op string) (string, float64) {
	switch op {
	case "Encrypt", "Decrypt", "GenerateDataKey":
		return "kms.cryptographic", 5500
	case "DescribeKey":
		return "kms.DescribeKey", 2000
	case "GetKeyPolicy":
		return "kms.GetKeyPolicy", 1000
	case "ListAliases", "ListKeyPolicies", "ListKeys":
		return "kms." + op, 100
	}
	return "kms." + op, 5
}

// knobs holds the run-time settings and the token buckets.
type knobs struct {
	mu      sync.Mutex
	f       Faults
	buckets map[string]*rate.Limiter
}

func (k *knobs) set(f Faults) {
	f.FaultRate = min(max(f.FaultRate, 0), 1)
	k.mu.Lock()
	defer k.mu.Unlock()
	if f.Quotas && !k.f.Quotas {
		k.buckets = map[string]*rate.Limiter{}
	}
	if f.IAMWriteRate != k.f.IAMWriteRate {
		delete(k.buckets, "/iam.write") // made anew, full, at the new rate (IAM is global: no region)
	}
	k.f = f
}

func (k *knobs) get() Faults {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f
}

// delay sleeps for the configured latency, or until ctx ends.
func (k *knobs) delay(ctx context.Context) error {
	f := k.get()
	d := f.Latency
	if f.Jitter > 0 {
		d += rand.N(f.Jitter)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fault decides whether to fail this request, and how: Secrets Manager's
// InternalServiceError (500), IAM's ServiceFailure (500) or STS's
// ServiceUnavailable (503); the SDKs retry all three.
func (k *knobs) fault(service string) (code string, status int, fail bool) {
	if r := k.get().FaultRate; r == 0 || rand.Float64() >= r {
		return "", 0, false
	}
	switch service {
	case "secretsmanager":
		return secretsmanager.CodeInternalServiceError, http.StatusInternalServerError, true
	case "kms":
		return kms.CodeInternal, http.StatusInternalServerError, true
	case "sts":
		return "ServiceUnavailable", http.StatusServiceUnavailable, true
	}
	return "ServiceFailure", http.StatusInternalServerError, true
}

// allow takes a token from the operation's bucket when quotas are on.
// Secrets Manager and KMS quotas are per region: region ("" for IAM and
// STS, which are global) names the bucket too.
func (k *knobs) allow(region, service, op string) bool {
	k.mu.Lock()
	if !k.f.Quotas {
		k.mu.Unlock()
		return true
	}
	name, r := quotaFor(service, op)
	if name == "iam.write" && k.f.IAMWriteRate > 0 {
		r = k.f.IAMWriteRate
	}
	name = region + "/" + name
	b, ok := k.buckets[name]
	if !ok {
		b = rate.NewLimiter(rate.Limit(r), max(1, int(r)))
		k.buckets[name] = b
	}
	k.mu.Unlock()
	return b.Allow()
}
