package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/secretboot/secretboot/sandbox"
)

type sandboxServeOptions struct {
	IO               IOStreams
	Addr             string
	StateDir         string // "" keeps state in memory
	Account          string
	Region           string
	Regions          []string // served besides Region
	Latency, Jitter  time.Duration
	Quotas           string // "" or "aws"
	FaultRate        float64
	PropagationDelay time.Duration
	PropagateWrites  bool
	ForceDeleteLag   time.Duration
	ListingLag       time.Duration
	IAMWriteRate     float64 // with Quotas, IAM writes a second; 0 = 20
	AttachedPolicies int     // IAM's quota of managed policies per role; 0 = AWS's default
	EnforceAuth      bool
	KMSKeys          []string // customer managed keys to create with these IDs or ARNs
	Accounts         []string // extra accounts, each with its own IAM, STS and admin key
	Debug            bool     // log every request (service, operation, status; never bodies)

	// Listen opens the listener; net.Listen unless a test injects one.
	Listen func(network, addr string) (net.Listener, error)
}

func newSandboxCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local AWS-compatible endpoint (Secrets Manager, KMS, IAM, STS)",
	}
	opts := sandboxServeOptions{Listen: net.Listen}
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the sandbox over HTTP until interrupted",
		Long: `serve runs the sandbox as an HTTP server for other tools (the AWS CLI, boto3,
Terraform, your application) and prints the environment that points them at
it. It listens on loopback unless -addr says otherwise, and on SIGINT or
SIGTERM it stops accepting requests, finishes the ones in flight and saves
its state (with -state).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = a.streams
			opts.Debug = a.common.debug
			return runSandboxServe(cmd.Context(), opts)
		},
	}
	f := serve.Flags()
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:4566", "listen on `HOST:PORT` (port 0 picks a free one)")
	f.StringVar(&opts.StateDir, "state", "", "keep state in `DIR` across restarts (default: in memory)")
	f.StringVar(&opts.Account, "account", "000000000000", "AWS account id of the sandbox")
	f.StringVar(&opts.Region, "region", "us-east-1", "AWS region of the sandbox")
	f.StringSliceVar(&opts.Regions, "regions", nil, "also serve these `REGION,…` (Secrets Manager and KMS per region, replication between them)")
	f.DurationVar(&opts.Latency, "latency", 0, "added to every request")
	f.DurationVar(&opts.Jitter, "jitter", 0, "random extra latency, uniform in [0, D)")
	f.StringVar(&opts.Quotas, "quotas", "", `"aws" enforces AWS's request-rate quotas (throttling errors)`)
	f.Float64Var(&opts.FaultRate, "fault-rate", 0, "fraction of requests answered with a 5xx, 0 to 1")
	f.DurationVar(&opts.PropagationDelay, "propagation-delay", 0, "a new role cannot be assumed for this long")
	f.BoolVar(&opts.PropagateWrites, "propagate-writes", false, "with -propagation-delay, IAM writes naming a new role answer NoSuchEntity for as long too")
	f.DurationVar(&opts.ForceDeleteLag, "force-delete-lag", 0, "a secret deleted without recovery keeps its name taken for this long")
	f.DurationVar(&opts.ListingLag, "listing-lag", 0, "ListSecrets lags writes by this long, as AWS's eventually consistent listing can")
	f.Float64Var(&opts.IAMWriteRate, "iam-write-rate", 0, "with -quotas aws, IAM writes a second the account allows (default 20; AWS publishes none)")
	f.IntVar(&opts.AttachedPolicies, "attached-policies-quota", 0, "IAM's quota of managed policies per role, as a raised account quota has it: 10 to 20 (default 10)")
	f.BoolVar(&opts.EnforceAuth, "enforce-auth", false, "verify SigV4 signatures and authorize requests with IAM policies")
	f.StringArrayVar(&opts.KMSKeys, "kms-key", nil, "create a KMS key with this `ID or ARN` (default key policy) unless it exists; repeatable")
	f.StringSliceVar(&opts.Accounts, "accounts", nil, "also serve these extra account `IDs`, each with its own IAM, STS and admin key (printed on stderr), which reach -account's secrets and keys across accounts")
	cmd.AddCommand(serve)
	return cmd
}

// shutdownGrace bounds how long in-flight requests may take after a signal.
const shutdownGrace = 5 * time.Second

func runSandboxServe(ctx context.Context, opts sandboxServeOptions) error {
	if opts.Quotas != "" && opts.Quotas != "aws" {
		return fmt.Errorf(`--quotas %q: the only quota set is "aws"`, opts.Quotas)
	}
	sbOpts := sandbox.Options{
		Account:          opts.Account,
		Region:           opts.Region,
		Regions:          opts.Regions,
		StateDir:         opts.StateDir,
		Latency:          opts.Latency,
		Jitter:           opts.Jitter,
		Quotas:           opts.Quotas == "aws",
		FaultRate:        opts.FaultRate,
		PropagationDelay: opts.PropagationDelay,
		PropagateWrites:  opts.PropagateWrites,
		ForceDeleteLag:   opts.ForceDeleteLag,
		ListingLag:       opts.ListingLag,
		IAMWriteRate:     opts.IAMWriteRate,

		AttachedPoliciesPerRoleQuota: opts.AttachedPolicies,
		EnforceAuth:                  opts.EnforceAuth,
		KMSKeys:                      opts.KMSKeys,
		Accounts:                     opts.Accounts,
	}
	if opts.Debug {
		sbOpts.Logger = slog.New(slog.NewTextHandler(opts.IO.Err, nil))
	}
	sb, err := sandbox.New(sbOpts)
	if err != nil {
		return err
	}
	ln, err := opts.Listen("tcp", opts.Addr)
	if err != nil {
		sb.Close()
		return fmt.Errorf("sandbox: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() {
		fmt.Fprintf(opts.IO.Err, "Warning: listening on %s, not loopback: anyone who can reach it can read the sandbox's secrets.\n", addr)
	}

	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// The other accounts' keys go to stderr: stdout is for eval.
	for _, account := range opts.Accounts {
		id, secret, _ := sb.AdminCredentialsFor(account)
		fmt.Fprintf(opts.IO.Err, "Account %s: AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", account, id, secret)
	}
	keyID, secretKey := sb.AdminCredentials()
	fmt.Fprintf(opts.IO.Out, "export AWS_ENDPOINT_URL=http://%s\n", endpointHost(addr))
	fmt.Fprintf(opts.IO.Out, "export AWS_ACCESS_KEY_ID=%s\n", keyID)
	fmt.Fprintf(opts.IO.Out, "export AWS_SECRET_ACCESS_KEY=%s\n", secretKey)
	// The AWS CLI v1 and boto3 read AWS_DEFAULT_REGION; the Go SDK and CLI v2
	// read AWS_REGION. AWS_REGION stays last: readers wait for it.
	fmt.Fprintf(opts.IO.Out, "export AWS_DEFAULT_REGION=%s\n", opts.Region)
	fmt.Fprintf(opts.IO.Out, "export AWS_REGION=%s\n", opts.Region)
	fmt.Fprintln(opts.IO.Err, "Sandbox running; press Ctrl-C to stop.")

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		if err := srv.Shutdown(shutdownCtx); err != nil {
			// Clients holding connections open past the grace period are
			// cut off; the state is saved all the same.
			srv.Close()
		}
		cancel()
		serveErr = <-served
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	// Close after the server has stopped, so no request changes state after
	// the last save.
	if err := sb.Close(); err != nil {
		return errors.Join(serveErr, fmt.Errorf("saving sandbox state: %w", err))
	}
	if serveErr != nil {
		return serveErr
	}
	if opts.StateDir != "" {
		fmt.Fprintf(opts.IO.Err, "Sandbox stopped; state saved in %s.\n", opts.StateDir)
	} else {
		fmt.Fprintln(opts.IO.Err, "Sandbox stopped.")
	}
	return nil
}

// endpointHost is the address clients should use: a wildcard listen address
// is reached through loopback.
func endpointHost(addr *net.TCPAddr) string {
	if addr.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(addr.Port))
	}
	return addr.String()
}
