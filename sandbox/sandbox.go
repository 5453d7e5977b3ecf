package sandbox

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secretboot/secretboot/sandbox/iam"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
	"github.com/secretboot/secretboot/sandbox/kms"
	"github.com/secretboot/secretboot/sandbox/secretsmanager"
)

// Options configures a Server. The zero value is a usable in-memory sandbox
// with no latency, quotas or faults and with authentication not enforced.
type Options struct {
	Account string // account of every ARN; default "000000000000"
	Region  string // the home region of Secrets Manager and KMS; default "us-east-1"
	// Regions are served besides Region. A request's region is its SigV4
	// credential scope's (the home region when unsigned); Secrets Manager
	// and KMS keep a state and quotas per region, and replicate secrets
	// between them; IAM and STS are global.
	Regions  []string
	StateDir string // "" keeps state in memory; otherwise state.json in this directory (0700 dir, 0600 file)

	Latency, Jitter  time.Duration // added to every request: Latency plus a uniform draw from [0, Jitter)
	Quotas           bool          // enforce AWS request-rate quotas as token buckets (see the package documentation)
	FaultRate        float64       // fraction of requests answered with a 5xx, 0 to 1
	PropagationDelay time.Duration // a new role is not usable by AssumeRole for this long
	// PropagateWrites extends PropagationDelay to IAM writes that name a
	// new role: PutRolePolicy, AttachRolePolicy and
	// AddRoleToInstanceProfile answer NoSuchEntity until it has passed, as
	// IAM can while a role it just created propagates.
	PropagateWrites bool
	// PropagationRefusals, with PropagateWrites, refuses each role created
	// while the sandbox runs at least this many times as well, however
	// late its first write comes: on a slow machine a write can follow
	// CreateRole only after PropagationDelay, and a test of the retries
	// must still see them.
	PropagationRefusals int
	// ForceDeleteLag keeps the name of a secret deleted without recovery
	// taken for this long, as AWS's asynchronous deletion does.
	ForceDeleteLag time.Duration
	ListingLag     time.Duration // ListSecrets answers from the state of this long ago
	// IAMWriteRate is the IAM write quota with Quotas, writes a second; 0
	// means 20 (Faults.IAMWriteRate).
	IAMWriteRate float64

	// AttachedPoliciesPerRoleQuota is IAM's quota of managed policies per
	// role, as an account with a raised quota has it: AttachRolePolicy
	// enforces it and GetAccountSummary reports it. 0 means AWS's default
	// of 10; AWS raises it up to 20.
	AttachedPoliciesPerRoleQuota int

	// KMSKeys are keys to create at start, unless the state has them: key
	// IDs (lower-case UUIDs, in Region) or key ARNs of Account and any
	// served region, each with the default key policy. CreateKey draws a
	// new ID, so this is how a test or a demo gets a key whose ARN a spec
	// already names.
	KMSKeys []string

	// OIDCProviders are IAM OIDC provider ARNs of Account to create at
	// start, unless the state has them, with the client ID
	// sts.amazonaws.com: how a spec whose roles trust EKS or GitHub
	// Actions runs on the sandbox, as KMSKeys is for its keys.
	OIDCProviders []string

	// Accounts are extra accounts, each with its own IAM, STS and admin
	// key (AdminCredentialsFor); Secrets Manager and KMS are Account's
	// alone, which the extra accounts reach across accounts.
	Accounts []string

	EnforceAuth bool         // verify SigV4 against known keys and authorize every request with policy
	Logger      *slog.Logger // request log: service, operation, status, duration; never bodies. nil = no log
	Now         func() time.Time
}

// Server is the sandbox endpoint: an http.Handler speaking Secrets Manager
// (awsJson1_1), KMS (awsJson1_1), IAM and STS (awsQuery). It is safe for
// concurrent use.
type Server struct {
	opts Options
	sm   *secretsmanager.Service // the home region's; sm.Region(r) serves r
	kms  map[string]*kms.Service // by region
	iam  *iam.Service
	keys *keyRegistry
	// others are the IAM and STS of Options.Accounts (accounts.go).
	others map[string]*iam.Service

	knobs   knobs
	stats   stats
	started time.Time
	// refusals counts the propagation refusals per role ARN
	// (PropagationRefusals).
	refusalsMu sync.Mutex
	refusals   map[string]int
	persist    *persister // nil when state is in memory only
}

// Admin credentials: a fixed, documented pair so that tools configured once
// keep working across restarts. They are not secret; the sandbox guards
// nothing of value.
const (
	AdminAccessKeyID     = "AKIASECRETBOOTADMIN0"
	AdminSecretAccessKey = "secretboot-sandbox-admin-secret-access-key"
	adminUserName        = "sandbox-admin"
)

// maxBody bounds a request body: the largest legitimate request (a 64 KiB
// secret value, base64-encoded, or a policy document) is far below it.
const maxBody = 1 << 20

// New builds a Server and, when opts.StateDir is set, restores the state
// saved there.
func New(opts Options) (*Server, error) {
	if opts.Account == "" {
		opts.Account = "000000000000"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, r := range opts.Regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("sandbox: %q is not a region name such as us-west-2", r)
		}
	}
	if opts.IAMWriteRate < 0 {
		return nil, fmt.Errorf("sandbox: an IAM write rate of %v a second is negative", opts.IAMWriteRate)
	}
	if opts.FaultRate < 0 || opts.FaultRate > 1 {
		return nil, fmt.Errorf("sandbox: fault rate %v is not between 0 and 1", opts.FaultRate)
	}
	if q := opts.AttachedPoliciesPerRoleQuota; q != 0 && (q < 10 || q > 20) {
		return nil, fmt.Errorf("sandbox: a quota of %d managed policies per role is not one AWS grants (10 to 20)", q)
	}
	s := &Server{opts: opts, keys: newKeyRegistry(opts.Now), started: opts.Now(), refusals: map[string]int{}}
	s.keys.add(AdminAccessKeyID, key{Secret: AdminSecretAccessKey, Principal: s.adminPrincipal()})
	s.sm = secretsmanager.New(secretsmanager.Config{Account: opts.Account, Region: opts.Region, Regions: opts.Regions, Now: opts.Now, ForceDeleteLag: opts.ForceDeleteLag})
	s.kms = map[string]*kms.Service{}
	for _, r := range s.sm.Regions() {
		s.kms[r] = kms.New(kms.Config{Account: opts.Account, Region: r, Now: opts.Now})
	}
	s.iam = iam.New(iam.Config{
		Account:                      opts.Account,
		Now:                          opts.Now,
		PropagationDelay:             opts.PropagationDelay,
		IssueCredentials:             s.keys.issue,
		AttachedPoliciesPerRoleQuota: opts.AttachedPoliciesPerRoleQuota,
	})
	if err := s.addAccounts(); err != nil {
		return nil, err
	}
	s.knobs.set(Faults{Latency: opts.Latency, Jitter: opts.Jitter, Quotas: opts.Quotas, FaultRate: opts.FaultRate, IAMWriteRate: opts.IAMWriteRate})
	s.sm.SetListingLag(opts.ListingLag)
	s.stats.reset()
	if opts.StateDir != "" {
		p, err := newPersister(opts.StateDir, s.snapshot)
		if err != nil {
			return nil, err
		}
		if err := p.load(s.restore); err != nil {
			return nil, err
		}
		s.persist = p
	}
	seeded, err := s.seedKeys(opts.KMSKeys)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	seededOIDC, err := s.iam.SeedOIDCProviders(opts.OIDCProviders)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if (seeded || seededOIDC) && s.persist != nil {
		s.persist.changed()
	}
	return s, nil
}

func (s *Server) adminPrincipal() iam.Principal {
	return iam.Principal{
		ARN:     fmt.Sprintf("arn:aws:iam::%s:user/%s", s.opts.Account, adminUserName),
		Account: s.opts.Account,
		Admin:   true,
	}
}

// AdminCredentials returns the access key pair of the sandbox's admin user.
func (s *Server) AdminCredentials() (accessKeyID, secretAccessKey string) {
	return AdminAccessKeyID, AdminSecretAccessKey
}

// Close writes pending state to StateDir. The Server still answers requests
// afterwards, but their changes are no longer saved.
func (s *Server) Close() error {
	if s.persist == nil {
		return nil
	}
	return s.persist.close()
}

// request is one decoded API call on its way through the pipeline.
type request struct {
	service string     // "secretsmanager", "kms", "iam" or "sts"
	region  string     // served region of a Secrets Manager or KMS request; "" for IAM and STS
	op      string     // operation name
	body    []byte     // raw body (Secrets Manager, KMS)
	form    url.Values // decoded form (IAM, STS)
	id      string     // request ID
}

func (q *request) name() string { return q.service + "." + q.op }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.serveAdmin(w, r)
		return
	}
	start := time.Now()
	q, body, werr := s.decode(r)
	rec := &statusRecorder{ResponseWriter: w}
	if werr != nil {
		writeErr(rec, q, werr)
	} else {
		s.serveRecovering(rec, r, q, body)
	}
	if s.opts.Logger != nil {
		s.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("service", q.service), slog.String("op", q.op),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
			slog.String("request_id", q.id))
	}
}

// serveRecovering answers a panicking operation with a 500 of the service's
// kind. Left to net/http, the panic value and a stack trace, which can hold
// request payloads, would be printed to the server's log.
func (s *Server) serveRecovering(w *statusRecorder, r *http.Request, q *request, body []byte) {
	defer func() {
		if recover() == nil {
			return
		}
		if s.opts.Logger != nil {
			s.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "operation panicked; its value is not logged",
				slog.String("service", q.service), slog.String("op", q.op), slog.String("request_id", q.id))
		}
		if w.status == 0 {
			code := "ServiceFailure"
			switch q.service {
			case "secretsmanager":
				code = secretsmanager.CodeInternalServiceError
			case "kms":
				code = kms.CodeInternal
			}
			writeErr(w, q, &apiErr{http.StatusInternalServerError, code, "The sandbox failed while serving this request."})
		}
	}()
	s.serve(w, r, q, body)
}

func (s *Server) serve(w *statusRecorder, r *http.Request, q *request, body []byte) {
	s.stats.call(q.name())
	if err := s.knobs.delay(r.Context()); err != nil {
		return // the client is gone
	}
	if code, status, ok := s.knobs.fault(q.service); ok {
		s.stats.fault(q.name())
		writeErr(w, q, &apiErr{status, code, "The sandbox injected a service failure."})
		return
	}
	if !s.knobs.allow(q.region, q.service, q.op) {
		s.stats.throttle(q.name())
		code := "Throttling"
		if q.service == "secretsmanager" || q.service == "kms" {
			code = secretsmanager.CodeThrottling // KMS spells it the same
		}
		writeErr(w, q, &apiErr{http.StatusBadRequest, code, "Rate exceeded"})
		return
	}
	var caller iam.Principal
	var aerr *apiErr
	if !anonymous(q) {
		caller, aerr = s.authenticate(r, q, body)
	}
	if aerr != nil {
		writeErr(w, q, aerr)
		return
	}
	if err := s.authorizeIAM(caller, q); err != nil {
		writeErr(w, q, err)
		return
	}
	identity, err := s.identityService(caller, q)
	if err == nil {
		err = s.authorizeAssumeRole(caller, q)
	}
	if err == nil {
		err = s.crossAccountTarget(caller, q)
	}
	if err != nil {
		writeErr(w, q, err)
		return
	}
	if err := s.checkPrincipalsPropagated(q, identity); err != nil {
		writeErr(w, q, err)
		return
	}
	switch q.service {
	case "secretsmanager":
		s.sm.Region(q.region).Serve(w, q.op, q.body, inRegion(s.authorizer(caller), q.region), s.keyUser(caller), q.id)
	case "kms":
		s.kms[q.region].Serve(w, q.op, q.body, inRegion(s.kmsAuthorizer(caller), q.region), q.id)
	case "iam":
		identity.ServeIAM(w, q.form, caller, q.id)
	case "sts":
		identity.ServeSTS(w, q.form, caller, q.id)
	}
	if w.status == http.StatusOK && s.persist != nil && mutating(q) {
		s.persist.changed()
	}
}

// mutating reports whether a successful call changed state worth saving.
func mutating(q *request) bool {
	switch q.service {
	case "secretsmanager":
		return secretsmanager.Mutating(q.op)
	case "kms":
		return kms.Mutating(q.op)
	case "sts":
		return strings.HasPrefix(q.op, "AssumeRole") // issued keys are saved too
	}
	for _, p := range []string{"Get", "List", "Simulate"} {
		if strings.HasPrefix(q.op, p) {
			return false
		}
	}
	return true
}

// decode reads the body and works out service and operation: Secrets
// Manager by X-Amz-Target; IAM and STS (both form-encoded with an Action)
// by the SigV4 credential scope, else by the API Version.
func (s *Server) decode(r *http.Request) (*request, []byte, *apiErr) {
	q := &request{id: newRequestID()}
	target := r.Header.Get("X-Amz-Target")
	if target != "" {
		q.service = "secretsmanager"
		if strings.HasPrefix(target, "TrentService.") {
			q.service = "kms"
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return q, nil, &apiErr{http.StatusBadRequest, "InvalidRequest", "The request body could not be read."}
	}
	if len(body) > maxBody {
		return q, nil, &apiErr{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large."}
	}
	if target != "" {
		op, ok := strings.CutPrefix(target, q.service+".")
		if q.service == "kms" {
			op, ok = strings.CutPrefix(target, "TrentService.")
		}
		if !ok {
			return q, body, &apiErr{http.StatusBadRequest, secretsmanager.CodeUnknownOperation, "The sandbox serves Secrets Manager, KMS, IAM and STS only."}
		}
		q.op, q.body = op, body
		q.region = credentialScope(r.Header.Get("Authorization")).region
		if q.region == "" {
			q.region = s.opts.Region
		}
		return q, body, s.checkRegion(q)
	}
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		bodyForm, err := url.ParseQuery(string(body))
		if err != nil {
			return q, body, &apiErr{http.StatusBadRequest, "MalformedQueryString", "The request body is not form-encoded."}
		}
		for k, v := range bodyForm {
			form[k] = append(form[k], v...)
		}
	}
	q.form, q.op = form, form.Get("Action")
	switch scope := credentialScope(r.Header.Get("Authorization")).service; {
	case scope == "iam" || scope == "sts":
		q.service = scope
	case form.Get("Version") == "2010-05-08":
		q.service = "iam"
	case form.Get("Version") == "2011-06-15":
		q.service = "sts"
	default:
		q.service = "iam" // for the error's XML shape only
		return q, body, &apiErr{http.StatusBadRequest, "InvalidAction", "The request names no known service: expected X-Amz-Target, or Action with Version 2010-05-08 (IAM) or 2011-06-15 (STS)."}
	}
	if q.op == "" {
		return q, body, &apiErr{http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action."}
	}
	return q, body, nil
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// checkRegion refuses a Secrets Manager or KMS request for a region the
// sandbox does not serve, as AWS refuses a region that is not enabled. A
// request's region is its SigV4 credential scope's, or the home region
// for a request without one.
func (s *Server) checkRegion(q *request) *apiErr {
	if s.kms[q.region] != nil {
		return nil
	}
	served := make([]string, 0, len(s.kms))
	for r := range s.kms {
		served = append(served, r)
	}
	slices.Sort(served)
	return &apiErr{http.StatusBadRequest, "UnrecognizedClientException",
		fmt.Sprintf("The sandbox does not serve region %s; it serves %s (add regions with -regions).", q.region, strings.Join(served, ", "))}
}

// inRegion adds the global condition key aws:RequestedRegion to the
// requests an authorizer decides (nil stays nil: all allowed).
func inRegion[F ~func(action, resource, resourcePolicy string, context map[string][]string) error](az F, region string) F {
	if az == nil {
		return nil
	}
	return func(action, resource, resourcePolicy string, context map[string][]string) error {
		ctx := map[string][]string{"aws:RequestedRegion": {region}}
		for k, v := range context {
			ctx[k] = v
		}
		return az(action, resource, resourcePolicy, ctx)
	}
}

// seedKeys creates the KMSKeys: a key ARN in its region, a key ID in the
// home region.
func (s *Server) seedKeys(refs []string) (bool, error) {
	byRegion := map[string][]string{}
	for _, ref := range refs {
		region := s.opts.Region
		if strings.HasPrefix(ref, "arn:") {
			if f := strings.Split(ref, ":"); len(f) > 3 && s.kms[f[3]] != nil {
				region = f[3]
			}
		}
		byRegion[region] = append(byRegion[region], ref)
	}
	seeded := false
	for region, refs := range byRegion {
		ok, err := s.kms[region].Seed(refs)
		if err != nil {
			return seeded, err
		}
		seeded = seeded || ok
	}
	return seeded, nil
}

// apiErr is an error the sandbox answers itself, before a service sees the
// request; writeErr encodes it in the protocol of the addressed service.
type apiErr struct {
	status        int
	code, message string
}

func writeErr(w http.ResponseWriter, q *request, e *apiErr) {
	switch q.service {
	case "secretsmanager":
		secretsmanager.WriteError(w, e.status, e.code, e.message, q.id)
		return
	case "kms":
		kms.WriteError(w, e.status, e.code, e.message, q.id)
		return
	}
	wire.WriteQueryError(w, e.status, e.code, e.message, q.id)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// newRequestID returns a UUIDv4, the shape of AWS request IDs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// restore and snapshot move the whole state to and from the state file.

type state struct {
	SecretsManager json.RawMessage `json:"secretsmanager"` // every region's
	KMS            json.RawMessage `json:"kms,omitempty"`  // the home region's
	// KMSRegions holds the KMS state of the other served regions.
	KMSRegions map[string]json.RawMessage `json:"kms_regions,omitempty"`
	IAM        json.RawMessage            `json:"iam"`
	Keys       json.RawMessage            `json:"keys"`
	// Accounts is the IAM of each extra account.
	Accounts map[string]json.RawMessage `json:"accounts,omitempty"`
}

func (s *Server) snapshot() (*state, error) {
	var st state
	var err error
	if st.SecretsManager, err = s.sm.Snapshot(); err != nil {
		return nil, err
	}
	for region, k := range s.kms {
		b, err := k.Snapshot()
		if err != nil {
			return nil, err
		}
		if region == s.opts.Region {
			st.KMS = b
			continue
		}
		if st.KMSRegions == nil {
			st.KMSRegions = map[string]json.RawMessage{}
		}
		st.KMSRegions[region] = b
	}
	if st.IAM, err = s.iam.Snapshot(); err != nil {
		return nil, err
	}
	if st.Keys, err = s.keys.snapshot(); err != nil {
		return nil, err
	}
	for _, a := range s.otherAccounts() {
		if st.Accounts == nil {
			st.Accounts = map[string]json.RawMessage{}
		}
		if st.Accounts[a], err = s.others[a].Snapshot(); err != nil {
			return nil, err
		}
	}
	return &st, nil
}

// restore loads a state. The regions it has are served from then on,
// whether Options.Regions names them or not: a state keeps its regions.
func (s *Server) restore(st *state) error {
	if len(st.SecretsManager) > 0 {
		if err := s.sm.Restore(st.SecretsManager); err != nil {
			return err
		}
	}
	if len(st.KMS) > 0 {
		if err := s.kms[s.opts.Region].Restore(st.KMS); err != nil {
			return err
		}
	}
	for region, b := range st.KMSRegions {
		if !regionRE.MatchString(region) {
			return fmt.Errorf("sandbox: the state holds KMS keys of %q, which is not a region name", region)
		}
		s.sm.AddRegion(region)
		if s.kms[region] == nil {
			s.kms[region] = kms.New(kms.Config{Account: s.opts.Account, Region: region, Now: s.opts.Now})
		}
		if err := s.kms[region].Restore(b); err != nil {
			return err
		}
	}
	for _, region := range s.sm.Regions() {
		if s.kms[region] == nil {
			s.kms[region] = kms.New(kms.Config{Account: s.opts.Account, Region: region, Now: s.opts.Now})
		}
	}
	if len(st.IAM) > 0 {
		if err := s.iam.Restore(st.IAM); err != nil {
			return err
		}
	}
	for a, b := range st.Accounts {
		// An account no longer in Options.Accounts is left out, not an error.
		if svc := s.others[a]; svc != nil {
			if err := svc.Restore(b); err != nil {
				return err
			}
		}
	}
	if len(st.Keys) > 0 {
		return s.keys.restore(st.Keys)
	}
	return nil
}
