package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/spec"
)

// sandboxAccount is the sandbox's account when the stage pins none.
const sandboxAccount = "000000000000"

// payloadUse says whether a command writes or compares payloads. The
// others (policy, verify, output, destroy) evaluate the stage without
// them, so they run where the payload sources are absent, such as a pull
// request's CI job; the engine refuses to plan or apply such a stage
// other than for its destruction.
type payloadUse bool

const (
	needsPayloads payloadUse = true
	noPayloads    payloadUse = false
)

// loadStage loads the spec, picks the stage and evaluates it, rendering
// every diagnostic (warnings included) on stderr. Errors are already shown
// when it returns errReported.
func (a *app) loadStage(requested string, use payloadUse) (*spec.Desired, error) {
	vars, err := a.varFlags()
	if err != nil {
		return nil, err
	}
	cfg, diags := spec.Load(a.common.specDir)
	if err := a.showDiags(cfg, diags); err != nil {
		return nil, err
	}
	stage, err := cfg.ResolveStage(requested)
	if err != nil {
		return nil, err
	}
	d, diags := cfg.Evaluate(stage, spec.EvalOptions{Vars: vars, LookupEnv: a.lookupEnv, SkipPayloads: use == noPayloads, Mask: a.secretSink()})
	if err := a.showDiags(cfg, diags); err != nil {
		return nil, err
	}
	return d, nil
}

// showDiags renders diags with the snippets of cfg's files; it parses them
// only when there is something to show.
func (a *app) showDiags(cfg *spec.Config, diags hcl.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	if err := writeDiagnosticsText(a.streams.Err, cfg.Files(), diags, a.streams.ColorEnabled); err != nil {
		return err
	}
	if diags.HasErrors() {
		return errReported
	}
	return nil
}

// stageSession is a connection to the stage's AWS account, or to the
// embedded sandbox with --sandbox.
type stageSession struct {
	*provision.Session
	close func() error // stops the embedded sandbox and saves its state
}

// connect opens a session for the evaluated stage. With --sandbox it first
// starts the sandbox on a loopback port, with the stage's account (so the
// account guard passes) and region, and state beside the spec.
func (a *app) connect(ctx context.Context, d *spec.Desired) (*stageSession, error) {
	co := provision.ConnectOptions{
		Stage:         d.Stage,
		Region:        d.Region,
		AccountID:     d.AccountID,
		AssumeRoleARN: d.AssumeRoleARN,
		Profile:       a.common.profile,
		Mask:          a.secretSink(),
	}
	if a.common.noAssumeRole {
		co.AssumeRoleARN = ""
	}
	if r := a.common.iamWriteRate; r != 0 {
		if err := provision.CheckIAMWriteRate(r); err != nil {
			return nil, fmt.Errorf("--iam-write-rate %v: %w", r, err)
		}
		co.IAMWriteRate = r
	}
	if a.common.debug {
		co.Debug = slog.New(slog.NewTextHandler(a.streams.Err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ss := &stageSession{close: func() error { return nil }}
	if a.common.sandbox.enabled {
		account := d.AccountID
		if account == "" {
			account = sandboxAccount
		}
		endpoint, stop, err := startSandbox(sandbox.Options{
			Account:  account,
			Region:   d.Region,
			Regions:  stageRegions(d),
			StateDir: a.common.sandbox.stateDir(a.common.specDir),
			KMSKeys:  stageKMSKeys(d, account),
			// The providers the stage's roles trust exist in the
			// account the spec was written for.
			OIDCProviders: stageOIDCProviders(d, account),
		})
		if err != nil {
			return nil, err
		}
		ss.close = stop
		co.Endpoint = endpoint
		co.Credentials = provision.StaticCredentials(sandbox.AdminAccessKeyID, sandbox.AdminSecretAccessKey, "", "the embedded sandbox's admin key")
		// The sandbox's admin already acts in the stage's account; the
		// stage's deployer role does not exist there.
		co.AssumeRoleARN = ""
		co.Profile = ""
	}
	s, err := provision.Connect(ctx, co)
	if err != nil {
		return nil, errors.Join(explainNoCredentials(err), ss.close())
	}
	ss.Session = s
	return ss, nil
}

// startSandbox serves an in-process sandbox on a free loopback port and
// returns its URL and a function that stops it and saves its state.
func startSandbox(opts sandbox.Options) (endpoint string, stop func() error, err error) {
	sb, err := sandbox.New(opts)
	if err != nil {
		return "", nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("starting the sandbox: %w", err), sb.Close())
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ErrServerClosed after Shutdown; nothing to report
	stop = func() error {
		// Commands are synchronous: when they stop the sandbox no request of
		// theirs is in flight, so close at once instead of waiting out the
		// SDK's idle keep-alive connections.
		return errors.Join(srv.Close(), sb.Close())
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// addNoAssumeRoleFlag gives the commands a review or an audit runs (plan,
// policy, audit, verify) --no-assume-role: a stage with assume_role_arn is
// reached by assuming that role on top of any credentials, but the plan
// role a review holds may not assume the deployer (docs/ci.md), and an
// auditor's reads are not the deployer's. The flag only
// drops that step: the credentials are used as they are, still checked
// against the stage's account_id.
func addNoAssumeRoleFlag(cmd *cobra.Command, a *app) {
	cmd.Flags().BoolVar(&a.common.noAssumeRole, "no-assume-role", false,
		"use the credentials as they are, without assuming the stage's assume_role_arn (a review's read-only plan role)")
}
