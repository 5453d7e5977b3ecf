package provision

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// OpStats counts the calls of one API operation made through a session.
type OpStats struct {
	Service   string        `json:"service"`   // the SDK's service id: "Secrets Manager", "IAM", "STS"
	Operation string        `json:"operation"` // "CreateSecret"
	Calls     int           `json:"calls"`     // operations invoked
	Retries   int           `json:"retries"`   // attempts beyond the first, made by the SDK's retryer
	Throttles int           `json:"throttles"` // attempts answered with a throttling error
	Errors    int           `json:"errors"`    // calls that failed after their last attempt
	Duration  time.Duration `json:"duration"`  // wall time of all calls, retries and rate-limit waits included
}

// CallStats are the API calls a session made, per operation.
type CallStats struct {
	Ops []OpStats `json:"operations"` // sorted by service, then operation
}

// Total sums every operation; its Service and Operation are empty.
func (c CallStats) Total() OpStats {
	var t OpStats
	for _, o := range c.Ops {
		t.Calls += o.Calls
		t.Retries += o.Retries
		t.Throttles += o.Throttles
		t.Errors += o.Errors
		t.Duration += o.Duration
	}
	return t
}

// Since returns the calls made after the snapshot before was taken.
func (c CallStats) Since(before CallStats) CallStats {
	prev := map[[2]string]OpStats{}
	for _, o := range before.Ops {
		prev[[2]string{o.Service, o.Operation}] = o
	}
	var out CallStats
	for _, o := range c.Ops {
		p := prev[[2]string{o.Service, o.Operation}]
		d := OpStats{
			Service: o.Service, Operation: o.Operation,
			Calls: o.Calls - p.Calls, Retries: o.Retries - p.Retries, Throttles: o.Throttles - p.Throttles,
			Errors: o.Errors - p.Errors, Duration: o.Duration - p.Duration,
		}
		if d.Calls > 0 {
			out.Ops = append(out.Ops, d)
		}
	}
	return out
}

// callCounter collects OpStats for a session; the SDK calls it from many
// goroutines.
type callCounter struct {
	mu  sync.Mutex
	ops map[[2]string]*OpStats
}

func newCallCounter() *callCounter { return &callCounter{ops: map[[2]string]*OpStats{}} }

func (c *callCounter) snapshot() CallStats {
	if c == nil {
		return CallStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := CallStats{Ops: make([]OpStats, 0, len(c.ops))}
	for _, o := range c.ops {
		out.Ops = append(out.Ops, *o)
	}
	sort.Slice(out.Ops, func(i, j int) bool {
		if out.Ops[i].Service != out.Ops[j].Service {
			return out.Ops[i].Service < out.Ops[j].Service
		}
		return out.Ops[i].Operation < out.Ops[j].Operation
	})
	return out
}

// callOutcome is what one operation's middleware pass learned.
type callOutcome struct {
	service, operation string
	duration           time.Duration
	attempts           int
	throttles          int
	errCode            string // "" on success
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// outcomeOf reads the retry middleware's attempt results: they exist
// whether the call succeeded or not.
func outcomeOf(ctx context.Context, md middleware.Metadata, err error, d time.Duration) callOutcome {
	o := callOutcome{
		service:   awsmiddleware.GetServiceID(ctx),
		operation: awsmiddleware.GetOperationName(ctx),
		duration:  d,
		attempts:  1,
	}
	if r, ok := retry.GetAttemptResults(md); ok && len(r.Results) > 0 {
		o.attempts = len(r.Results)
		for _, a := range r.Results {
			if a.Err != nil && throttles.IsErrorThrottle(a.Err) == aws.TrueTernary {
				o.throttles++
			}
		}
	}
	if err != nil {
		o.errCode = "error"
		var ae smithy.APIError
		if errors.As(err, &ae) {
			o.errCode = ae.ErrorCode()
		}
	}
	return o
}

func (c *callCounter) add(o callOutcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]string{o.service, o.operation}
	s := c.ops[k]
	if s == nil {
		s = &OpStats{Service: o.service, Operation: o.operation}
		c.ops[k] = s
	}
	s.Calls++
	s.Retries += o.attempts - 1
	s.Throttles += o.throttles
	s.Duration += o.duration
	if o.errCode != "" {
		s.Errors++
	}
}

// addCallStats counts every operation and, with a debug logger, logs one
// record per operation: duration, attempts, retries, throttles and the
// error code. Error messages are left out: they come from the service and
// are not ours to vouch for. It sits at the start of the stack, so the
// duration includes retries and client-side rate-limit waits.
func addCallStats(c *callCounter, log *slog.Logger) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("secretboot.CallStats",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				o := outcomeOf(ctx, md, err, time.Since(start))
				c.add(o)
				if log != nil {
					attrs := []slog.Attr{
						slog.String("service", o.service),
						slog.String("operation", o.operation),
						slog.Duration("duration", o.duration),
						slog.Int("attempts", o.attempts),
						slog.Int("retries", o.attempts-1),
						slog.Int("throttles", o.throttles),
					}
					if o.errCode != "" {
						attrs = append(attrs, slog.String("error_code", o.errCode))
					}
					log.LogAttrs(ctx, slog.LevelDebug, "aws operation", attrs...)
				}
				return out, md, err
			}), middleware.Before)
	}
}

// logCallStats writes one debug record per operation of stats, for the end
// of an apply.
func logCallStats(ctx context.Context, log *slog.Logger, msg string, stats CallStats) {
	if log == nil {
		return
	}
	for _, o := range stats.Ops {
		log.LogAttrs(ctx, slog.LevelDebug, msg,
			slog.String("service", o.Service),
			slog.String("operation", o.Operation),
			slog.Int("calls", o.Calls),
			slog.Int("retries", o.Retries),
			slog.Int("throttles", o.Throttles),
			slog.Int("errors", o.Errors),
			slog.Duration("duration", o.Duration),
		)
	}
}
