package provision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
	"github.com/secretboot/secretboot/spec"
)

// echoMode is how the echoing endpoint answers an operation it fails.
type echoMode string

const (
	// An AWS-shaped error whose message is the echo, with a request ID of
	// AWS's form.
	echoMessage echoMode = "message"
	// The echo in the code, the message ("Message") and the request ID.
	echoEverywhere echoMode = "everywhere"
	// A retryable 500 with the echo, until the retries run out.
	echoServerError echoMode = "5xx"
	// A 200 whose body is truncated JSON quoting the echo.
	echoTruncated echoMode = "truncated-200"
	// A 200 whose body is JSON of the wrong shape quoting the echo.
	echoWrongShape echoMode = "wrong-shape-200"
	// Not HTTP: the echo as the status line, which net/http quotes in its
	// error.
	echoNotHTTP echoMode = "not-http"
)

var echoModes = []echoMode{echoMessage, echoEverywhere, echoServerError, echoTruncated, echoWrongShape, echoNotHTTP}

// smOperations are the Secrets Manager operations the engine calls.
var smOperations = []string{
	"ListSecrets", "DescribeSecret", "GetSecretValue", "CreateSecret", "PutSecretValue", "UpdateSecret",
	"UpdateSecretVersionStage", "TagResource", "UntagResource", "DeleteSecret", "RestoreSecret",
}

// payloadOps are the operations whose requests or answers carry payloads;
// the scenario must reach each of them.
var payloadOps = map[string]bool{"GetSecretValue": true, "CreateSecret": true, "PutSecretValue": true, "UpdateSecret": true}

const echoRequestID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

// echoEndpoint sits in front of the sandbox. For the Secrets Manager
// operation it is told to fail, it lets the sandbox serve the request and
// then answers with an error (or a broken answer) that quotes the whole
// request body and the sandbox's answer: a write's payload, a read's
// value, the stage key in base64. Everything else passes through.
type echoEndpoint struct {
	next http.Handler

	mu     sync.Mutex
	op     string
	mode   echoMode
	times  int    // failures left; < 0 = every call
	except string // requests whose body holds this pass; "" = none
	failed int    // failures so far
	echoed []string
}

// echoes returns what the endpoint quoted in its failures.
func (e *echoEndpoint) echoes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.echoed
}

func (e *echoEndpoint) fail(op string, mode echoMode, times int) { e.failExcept(op, mode, times, "") }

func (e *echoEndpoint) failExcept(op string, mode echoMode, times int, except string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.op, e.mode, e.times, e.except = op, mode, times, except
}

func (e *echoEndpoint) failures() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed
}

func (e *echoEndpoint) take(op string, body []byte) (echoMode, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if op == "" || op != e.op || e.times == 0 || e.except != "" && bytes.Contains(body, []byte(e.except)) {
		return "", false
	}
	if e.times > 0 {
		e.times--
	}
	e.failed++
	return e.mode, true
}

func (e *echoEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	mode, ok := e.take(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager."), body)
	if !ok {
		e.next.ServeHTTP(w, r)
		return
	}
	served := httptest.NewRecorder()
	e.next.ServeHTTP(served, r)
	echo := "you sent: " + string(body) + " and the answer was: " + served.Body.String()
	e.mu.Lock()
	e.echoed = append(e.echoed, echo)
	e.mu.Unlock()
	quoted, _ := json.Marshal(echo)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch mode {
	case echoMessage:
		w.Header().Set("X-Amzn-Requestid", echoRequestID)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"InvalidRequestException","message":%s}`, quoted)
	case echoEverywhere:
		b64 := base64.StdEncoding.EncodeToString([]byte(echo))
		w.Header().Set("X-Amzn-Requestid", b64)
		w.Header().Set("X-Amzn-Errortype", b64)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":%q,"Message":%s}`, b64, quoted)
	case echoServerError:
		w.Header().Set("X-Amzn-Requestid", echoRequestID)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"__type":"InternalServiceError","message":%s}`, quoted)
	case echoTruncated:
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"Name":%s,"ARN":"`, quoted)
		_, _ = w.Write([]byte(echo))
	case echoWrongShape:
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"Name":{"echo":%s},"ARN":[%s],"SecretList":%s,"SecretString":7,"SecretBinary":%s}`, quoted, quoted, quoted, quoted)
	case echoNotHTTP:
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		// One word, which net/http quotes whole: "malformed HTTP response".
		_, _ = buf.WriteString(strings.NewReplacer("\r", "_", "\n", "_", " ", "_").Replace(echo) + "\r\n\r\n")
		_ = buf.Flush()
	default: // "code:<code>": that code, the echo as its message
		w.Header().Set("X-Amzn-Requestid", echoRequestID)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":%q,"message":%s}`, strings.TrimPrefix(string(mode), "code:"), quoted)
	}
}

// echoStack is a sandbox behind an echoing endpoint.
type echoStack struct {
	env  *sandboxtest.Env
	echo *echoEndpoint
	url  string
}

func startEchoStack(t *testing.T) *echoStack {
	t.Helper()
	env := sandboxtest.Start(t, sandbox.Options{Account: sandboxAccount})
	e := &echoEndpoint{next: env.Server}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return &echoStack{env: env, echo: e, url: ts.URL}
}

func (st *echoStack) connect(t *testing.T, debug io.Writer, mask func([]byte)) *provision.Session {
	t.Helper()
	o := provision.ConnectOptions{
		Stage: "test", Region: "us-east-1", AccountID: sandboxAccount, Endpoint: st.url,
		Credentials: provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", ""),
		MaxAttempts: 2, Mask: mask,
	}
	if debug != nil {
		o.Debug = slog.New(slog.NewJSONHandler(debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := provision.Connect(context.Background(), o)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return s
}

// constRand is a source of randomness that always reads the same byte, so
// that the generated values and the stage key are known to the test
// whatever order apply draws them in.
type constRand byte

func (c constRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

const echoRand = constRand(0x9c)

// Canaries: payloads of each kind the engine handles.
const (
	canaryString  = "CANARY-echo-string-3b91d0e7"
	canaryField   = "CANARY-echo-field-5c7a2f19"
	canaryBinary  = "CANARY-echo-binary-8e4d6a02"
	canaryChanged = "CANARY-echo-changed-1f6b9c84"
	canaryLegacy  = "CANARY-echo-legacy-7d2e5a31"
)

var echoPassword = spec.Generator{Field: "password", Length: 24, Upper: true, Lower: true, Numeric: true}

func echoDesired(stage, host, stripe string) *spec.Desired {
	d := testDesired(stage, sandboxAccount, stripe)
	d.Secrets[0].Payload = spec.Payload{
		Kind: spec.KindObject, Declared: spec.SealString(`{"host":"` + host + `","username":"app"}`),
		Fields: []string{"host", "password", "username"}, Generators: []spec.Generator{echoPassword},
	}
	d.Secrets = append(d.Secrets, &spec.Secret{
		Key: "app/cert", Name: stage + "/app/cert", RecoveryWindowDays: 7,
		Readers: []spec.Reader{{Role: "web"}},
		Payload: spec.Payload{Kind: spec.KindBinary, Declared: spec.SealString(canaryBinary)},
	})
	return d
}

// canaryNeedles returns the forms of v searched for: raw, JSON-escaped
// (once and twice: a JSON value in a JSON string), and base64 (standard
// and URL, at each of the three alignments inside a longer blob).
func canaryNeedles(v []byte) [][]byte {
	esc := func(b []byte) []byte { j, _ := json.Marshal(string(b)); return j[1 : len(j)-1] }
	out := [][]byte{v, esc(v), esc(esc(v))}
	for align := range 3 {
		skip := (3 - align) % 3
		body := v[skip:]
		body = body[:len(body)/3*3]
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			out = append(out, []byte(enc.EncodeToString(body)))
		}
	}
	return out
}

// leakScan looks for canaries in texts.
type leakScan struct {
	canaries map[string][]byte
	checked  atomic.Int64 // (text, canary, form) combinations searched
}

func newLeakScan(t *testing.T) *leakScan {
	t.Helper()
	gen, err := echoPassword.Generate(echoRand)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{byte(echoRand)}, 32)
	return &leakScan{canaries: map[string][]byte{
		"string": []byte(canaryString), "field": []byte(canaryField), "binary": []byte(canaryBinary),
		"changed": []byte(canaryChanged), "legacy": []byte(canaryLegacy),
		"generated": gen.Reveal(), "stage key": key,
		"stage key (base64)": []byte(base64.StdEncoding.EncodeToString(key)),
	}}
}

func (l *leakScan) hits(text string) []string {
	var out []string
	for name, v := range l.canaries {
		for _, n := range canaryNeedles(v) {
			l.checked.Add(1)
			if len(n) >= 12 && strings.Contains(text, string(n)) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// TestEchoingEndpointLeaksNothing runs plan, apply (create and update),
// import and destroy against an endpoint that fails each Secrets Manager
// operation in turn, in each echoing mode, and finds no canary in any
// error the engine returns nor in its debug log.
func TestEchoingEndpointLeaksNothing(t *testing.T) {
	t.Parallel()
	scan := newLeakScan(t)
	var mu sync.Mutex
	total, leaks := 0, 0
	echoed := map[echoMode]map[string]bool{} // canaries the endpoint quoted, by mode
	// Short unless SECRETBOOT_LONG_TESTS=1, which .ci/run sets.
	long := os.Getenv("SECRETBOOT_LONG_TESTS") == "1"
	for m, mode := range echoModes {
		for i, op := range smOperations {
			if !long && !payloadOps[op] && i%len(echoModes) != m {
				continue // short: the payload operations in every mode, each other one in one mode
			}
			t.Run(string(mode)+"/"+op, func(t *testing.T) {
				t.Parallel()
				st := startEchoStack(t)
				var debug bytes.Buffer
				s := st.connect(t, &debug, nil)
				errs := echoScenario(t, st, s, op, mode)
				if payloadOps[op] && st.echo.failures() == 0 {
					t.Fatalf("the scenario never called %s", op)
				}
				// A broken 200 is an error only for operations that
				// read an answer.
				if st.echo.failures() > 0 && len(errs) == 0 && (mode != echoTruncated && mode != echoWrongShape || payloadOps[op]) {
					t.Fatalf("%s failed %d times in mode %s and no error came back", op, st.echo.failures(), mode)
				}
				n := 0
				for _, e := range append(errs, debug.String()) {
					if h := scan.hits(e); len(h) > 0 {
						n++
						t.Errorf("canaries %v in:\n%s", h, e)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				total += len(errs)
				leaks += n
				if echoed[mode] == nil {
					echoed[mode] = map[string]bool{}
				}
				for _, e := range st.echo.echoes() {
					for _, c := range scan.hits(e) {
						echoed[mode][c] = true
					}
				}
			})
		}
	}
	t.Cleanup(func() {
		// The scenario proves something only if the endpoint quoted every
		// kind of payload in every mode.
		for _, mode := range echoModes {
			for c := range scan.canaries {
				if !echoed[mode][c] {
					t.Errorf("mode %s: the endpoint never quoted the %s canary", mode, c)
				}
			}
		}
		t.Logf("%d errors scanned, %d combinations searched, %d leaks", total, scan.checked.Load(), leaks)
	})
}

// echoScenario runs the engine's paths with op failing in mode and
// returns the text of every error they returned.
func echoScenario(t *testing.T, st *echoStack, s *provision.Session, op string, mode echoMode) []string {
	t.Helper()
	ctx := context.Background()
	var errs []string
	collect := func(err error) bool {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
		}
		return err == nil
	}
	run := func(d *spec.Desired, opts provision.DiffOptions) {
		o, err := provision.Observe(ctx, s, d)
		if !collect(err) {
			return
		}
		p, err := provision.Diff(d, o, opts)
		if !collect(err) {
			return
		}
		_, err = provision.Apply(ctx, s, p, d, provision.ApplyOptions{Rand: echoRand, PropagationTimeout: 1e9})
		collect(err)
	}
	stage := "echo"
	d := echoDesired(stage, canaryField, canaryString)

	// Creation: the stage key, payloads, generated values. The endpoint
	// serves each request before it fails it, so each run gets further:
	// the second finds the stage key made and creates the secrets.
	st.echo.fail(op, mode, -1)
	run(d, provision.DiffOptions{})
	run(d, provision.DiffOptions{})
	st.echo.fail("", "", 0)
	run(d, provision.DiffOptions{})

	// Updates: a new payload, a new declared field next to a generated one
	// (read back to keep it), a description, a restore of a deleted secret.
	d = echoDesired(stage, canaryField+"-2", canaryChanged)
	d.Secrets[0].Description = "the primary database, moved"
	sm := secretsmanager.NewFromConfig(st.env.Config)
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(stage + "/app/cert")}); err != nil {
		t.Fatal(err)
	}
	legacy := stage + "/app/legacy"
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(legacy), SecretString: aws.String(canaryLegacy)}); err != nil {
		t.Fatal(err)
	}
	st.echo.fail(op, mode, -1)
	run(d, provision.DiffOptions{})
	// Sparing the stage key's reading lets apply reach the reading of
	// live values (GetSecretValue) that keeps generated ones.
	st.echo.failExcept(op, mode, -1, "stage-key")
	run(d, provision.DiffOptions{})
	run(d, provision.DiffOptions{Regenerate: []string{"app/db"}})
	st.echo.fail(op, mode, -1)

	d.Secrets = append(d.Secrets, &spec.Secret{
		Key: "app/legacy", Name: legacy, RecoveryWindowDays: 7, Readers: []spec.Reader{{Role: "web"}},
		Payload: spec.Payload{Kind: spec.KindString, Declared: spec.SealString(canaryLegacy + "-new")},
	})
	_, err := provision.Import(ctx, s, d, []string{"app/legacy"})
	collect(err)
	run(d, provision.DiffOptions{}) // writes the imported secret
	run(d, provision.DiffOptions{Destroy: true})
	return errs
}

// TestEchoingEndpointCanLeak proves the scenario's endpoint really echoes:
// an SDK client without secretboot's middleware prints the canary.
func TestEchoingEndpointCanLeak(t *testing.T) {
	t.Parallel()
	st := startEchoStack(t)
	scan := newLeakScan(t)
	raw := secretsmanager.NewFromConfig(st.env.Config, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(st.url) })
	for _, mode := range []echoMode{echoMessage, echoEverywhere, echoServerError, echoNotHTTP} {
		st.echo.fail("CreateSecret", mode, -1)
		_, err := raw.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("x-" + string(mode)), SecretString: aws.String(canaryString)})
		if err == nil || len(scan.hits(err.Error())) == 0 {
			t.Errorf("%s: the raw SDK error does not quote the payload, so the echo scenario proves nothing: %v", mode, err)
		}
	}
}

// TestEndpointErrorKeepsCode checks what the rebuilt error keeps: the
// smithy.APIError code and fault the engine branches on, the HTTP status,
// the request ID, the operation and the resource.
func TestEndpointErrorKeepsCode(t *testing.T) {
	t.Parallel()
	st := startEchoStack(t)
	s := st.connect(t, nil, nil)
	ctx := context.Background()
	st.echo.fail("PutSecretValue", echoMessage, -1)
	_, err := s.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("dev/app/x"), SecretString: aws.String(canaryString)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidRequestException" || api.ErrorFault() != smithy.FaultClient {
		t.Fatalf("want an APIError InvalidRequestException (client fault), got %#v", err)
	}
	var ee *provision.EndpointError
	if !errors.As(err, &ee) {
		t.Fatalf("no EndpointError in %v", err)
	}
	want := provision.EndpointError{Operation: "PutSecretValue", Resource: "dev/app/x", Code: "InvalidRequestException", StatusCode: 400, RequestID: echoRequestID}
	if ee.Operation != want.Operation || ee.Resource != want.Resource || ee.Code != want.Code || ee.StatusCode != want.StatusCode || ee.RequestID != want.RequestID {
		t.Errorf("EndpointError = %+v, want %+v", *ee, want)
	}
	for _, part := range []string{"PutSecretValue", "InvalidRequestException", "HTTP 400", echoRequestID, "run plan again"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	if strings.Contains(err.Error(), "you sent") || strings.Contains(api.ErrorMessage(), "you sent") {
		t.Errorf("the endpoint's message survived: %v", err)
	}

	// A server error is retried, on the endpoint's own error, before it
	// is rebuilt.
	st.echo.fail("PutSecretValue", echoServerError, -1)
	_, err = s.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("dev/app/x"), SecretString: aws.String(canaryString)})
	if !errors.As(err, &api) || api.ErrorCode() != "InternalServiceError" || !errors.As(err, &ee) || ee.Attempts != 2 || ee.StatusCode != 500 || st.echo.failures() != 3 {
		t.Errorf("a 500 came back as %#v after %d failures; want InternalServiceError after 2 attempts", err, st.echo.failures())
	}

	// A code that is not a documented one is not passed on: it is the
	// endpoint's text too.
	st.echo.fail("GetSecretValue", echoEverywhere, -1)
	_, err = s.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("dev/app/x")})
	if errors.As(err, &api) || !errors.As(err, &ee) || ee.RequestID != "" || ee.StatusCode != 400 {
		t.Errorf("an unknown code came back as %#v", err)
	}

	// An operation whose bodies hold no payload keeps the endpoint's
	// message.
	st.echo.fail("DescribeSecret", echoMessage, -1)
	_, err = s.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("dev/app/x")})
	if !errors.As(err, &api) || !strings.Contains(api.ErrorMessage(), "you sent") || errors.As(err, &ee) {
		t.Errorf("DescribeSecret's error was rebuilt: %v", err)
	}
}

// TestEndpointErrorAdvice checks that the engine's reading of codes still
// works on rebuilt errors: an access denial on the stage key becomes an
// AccessDeniedError, and a stage key without a value reads as absent.
func TestEndpointErrorAdvice(t *testing.T) {
	t.Parallel()
	st := startEchoStack(t)
	s := st.connect(t, nil, nil)
	ctx := context.Background()
	d := echoDesired("advice", canaryField, canaryString)
	if p, err := planOf(ctx, s, d, false); err != nil {
		t.Fatal(err)
	} else if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 1e9}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code  string
		check func(error) bool
	}{
		{"AccessDeniedException", func(err error) bool {
			var denied *provision.AccessDeniedError
			return errors.As(err, &denied) && denied.Operation == "reading the stage key" && strings.Contains(err.Error(), "lacks an IAM permission")
		}},
		{"ResourceNotFoundException", func(err error) bool { return err == nil }},
		{"DecryptionFailure", func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "kms:Decrypt")
		}},
	} {
		st.echo.fail("GetSecretValue", echoMode("code:"+tc.code), -1)
		_, err := provision.Observe(ctx, s, d)
		if !tc.check(err) {
			t.Errorf("%s on GetSecretValue of the stage key: observe returned %v", tc.code, err)
		}
		if err != nil && strings.Contains(err.Error(), "you sent") {
			t.Errorf("%s: the endpoint's message survived: %v", tc.code, err)
		}
	}
}

// TestThrottlingStillRetried checks that the retryer sees the endpoint's
// own error, not the rebuilt one: a throttled PutSecretValue is retried
// and succeeds, and one throttled for good ends in a rebuilt
// ThrottlingException that counts its attempts.
func TestThrottlingStillRetried(t *testing.T) {
	t.Parallel()
	st := startEchoStack(t)
	s := st.connect(t, nil, nil)
	ctx := context.Background()
	d := echoDesired("throttle", canaryField, canaryString)
	if err := converge1(ctx, s, d, false); err != nil {
		t.Fatal(err)
	}
	apply := func(payload string) (*provision.ApplyResult, error) {
		d := echoDesired("throttle", canaryField, payload)
		p, err := planOf(ctx, s, d, false)
		if err != nil {
			t.Fatal(err)
		}
		return provision.Apply(ctx, s, p, d, provision.ApplyOptions{PropagationTimeout: 1e9})
	}

	st.echo.fail("PutSecretValue", "code:ThrottlingException", 1)
	before := s.CallStats()
	if _, err := apply(canaryChanged); err != nil {
		t.Fatalf("a throttled write was not retried: %v", err)
	}
	var put provision.OpStats
	for _, o := range s.CallStats().Since(before).Ops {
		if o.Operation == "PutSecretValue" {
			put = o
		}
	}
	if st.echo.failures() != 1 || put.Calls != 1 || put.Retries != 1 || put.Throttles != 1 || put.Errors != 0 {
		t.Errorf("throttled once: %d failures, PutSecretValue stats %+v; want 1 call, 1 retry, 1 throttle, no error", st.echo.failures(), put)
	}

	st.echo.fail("PutSecretValue", "code:ThrottlingException", -1)
	res, err := apply(canaryChanged + "-again")
	if err == nil || len(res.Failed) != 1 {
		t.Fatalf("throttled for good: apply returned %v", err)
	}
	var api smithy.APIError
	var ee *provision.EndpointError
	if !errors.As(res.Failed[0].Err, &api) || api.ErrorCode() != "ThrottlingException" || !errors.As(res.Failed[0].Err, &ee) || ee.Attempts != 2 {
		t.Errorf("throttled for good: %#v", res.Failed[0].Err)
	}
	if !strings.Contains(err.Error(), "2 attempts") || !strings.Contains(err.Error(), "run the command again later") {
		t.Errorf("the error does not say what happened and what to do: %v", err)
	}
}

// maskRecorder is a ConnectOptions.Mask that keeps what it is given.
type maskRecorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *maskRecorder) mask(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[string(b)] = true
	clear(b) // the copy is the masker's: the engine must not rely on it
}

func (m *maskRecorder) take() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := m.seen
	m.seen = map[string]bool{}
	return seen
}

// TestMaskReceivesPayloads checks that ConnectOptions.Mask is given the
// generated values, the values read back and the stage key in both forms.
func TestMaskReceivesPayloads(t *testing.T) {
	t.Parallel()
	st := startEchoStack(t)
	rec := &maskRecorder{seen: map[string]bool{}}
	s := st.connect(t, nil, rec.mask)
	ctx := context.Background()
	gen, err := echoPassword.Generate(echoRand)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{byte(echoRand)}, 32)
	keyB64 := base64.StdEncoding.EncodeToString(key)
	want := func(what string, seen map[string]bool, values ...string) {
		t.Helper()
		for _, v := range values {
			if !seen[v] {
				t.Errorf("%s: Mask was not given %q", what, v)
			}
		}
	}

	d := echoDesired("mask", canaryField, canaryString)
	p, err := planOf(ctx, s, d, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{Rand: echoRand, PropagationTimeout: 1e9}); err != nil {
		t.Fatal(err)
	}
	want("first apply", rec.take(), string(gen.Reveal()), string(key), keyB64)

	// Observing reads the stage key back, and nothing else.
	if _, err := provision.Observe(ctx, s, d); err != nil {
		t.Fatal(err)
	}
	if seen := rec.take(); len(seen) != 2 || !seen[string(key)] || !seen[keyB64] {
		t.Errorf("observe: Mask was given %d values, want the stage key and its base64 form", len(seen))
	}

	// A new declared field next to a generated one: apply reads the live
	// value back to keep the generated field.
	sm := secretsmanager.NewFromConfig(st.env.Config)
	live, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("mask/app/db")})
	if err != nil {
		t.Fatal(err)
	}
	// The write fails, so the only whole value is the one read back, and
	// the old host is a field of it only.
	st.echo.fail("PutSecretValue", echoMessage, -1)
	d = echoDesired("mask", canaryField+"-moved", canaryString)
	p, err = planOf(ctx, s, d, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Apply(ctx, s, p, d, provision.ApplyOptions{Rand: echoRand, PropagationTimeout: 1e9}); err == nil {
		t.Fatal("the write did not fail")
	}
	want("reading the live value", rec.take(), aws.ToString(live.SecretString), string(gen.Reveal()), canaryField)
}
