package leaktest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/secretboot/secretboot/internal/syncbuf"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// server is a `secretboot sandbox serve` process.
type server struct {
	w      *workspace
	label  string
	cmd    *exec.Cmd
	stdout syncbuf.Buffer
	stderr syncbuf.Buffer
	done   chan struct{} // closed when stdout is drained
	url    string
	keyID  string
	secret string
}

// serve starts `secretboot sandbox serve` on a free port with args and
// reads the export lines it prints.
func (w *workspace) serve(args ...string) *server {
	w.t.Helper()
	all := append([]string{"sandbox", "serve", "--addr", "127.0.0.1:0", "--regions", strings.Join(replicaRegions, ","),
		"--kms-key", mainKey, "--kms-key", replicaKey}, args...)
	s := &server{w: w, label: strings.Join(all, " "), done: make(chan struct{})}
	bin := w.bin // the server runs the workspace's binary, as its CLI runs do
	if bin == "" {
		bin = secretboot(w.t)
	}
	recordRun(w.t, all)
	s.cmd = exec.Command(bin, all...)
	s.cmd.Dir = w.root
	s.cmd.Env = w.env
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	br := bufio.NewReader(out)
	exports := map[string]string{}
	for len(exports) < 4 {
		line, err := br.ReadString('\n')
		if err != nil {
			w.t.Fatalf("`secretboot %s` printed no export lines: %v\nstderr:\n%s", s.label, err, s.stderr.Bytes())
		}
		s.stdout.Write([]byte(line))
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok {
			exports[k] = v
		}
	}
	go func() {
		_, _ = io.Copy(&s.stdout, br)
		close(s.done)
	}()
	s.url, s.keyID, s.secret = exports["AWS_ENDPOINT_URL"], exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"]
	if s.url == "" || s.keyID == "" || s.secret == "" {
		w.t.Fatalf("incomplete export lines: %v", exports)
	}
	return s
}

// env points the CLI at the server with the given keys (the admin's when
// none are given), the way a user would after `eval $(secretboot sandbox serve)`.
func (s *server) env(keys ...string) []string {
	id, secret, token := s.keyID, s.secret, ""
	if len(keys) == 3 {
		id, secret, token = keys[0], keys[1], keys[2]
	}
	env := []string{"AWS_ENDPOINT_URL=" + s.url, "AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=" + region}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	return env
}

// config is an SDK configuration for the server with admin credentials.
// The test's own reads retry as patiently as the CLI does (8 attempts):
// with the SDK's default 3, a server injecting 5xx at 15% fails one read
// in 300, which made the fault test flaky.
func (s *server) config() aws.Config {
	cfg := sandboxtest.Config(s.url, region, credentials.NewStaticCredentialsProvider(s.keyID, s.secret, ""))
	cfg.RetryMaxAttempts = 8
	return cfg
}

// stop interrupts the server, waits for it to save its state and scans its
// output (the request log with --debug).
func (s *server) stop() result {
	s.w.t.Helper()
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		s.w.t.Fatal(err)
	}
	<-s.done
	err := s.cmd.Wait()
	return s.w.finish(s.label, err, s.stdout.Bytes(), s.stderr.Bytes())
}

// runThrottled runs the CLI while this process exhausts the server's
// ListSecrets quota, until the CLI's --debug log shows that it was
// throttled; the SDK's retry then succeeds once the quota refills. On a
// loaded machine the CLI may still win a refilled token, so it tries up to
// three times.
func (s *server) runThrottled(want int, args ...string) result {
	s.w.t.Helper()
	for try := 1; ; try++ {
		r, throttled := s.runHammered(want, args...)
		if throttled {
			return r
		}
		if try == 3 {
			s.w.t.Errorf("`secretboot %s` was never throttled in %d tries:\n%s", r.label, try, r.stderr)
			return r
		}
	}
}

// runHammered is one try of runThrottled.
func (s *server) runHammered(want int, args ...string) (result, bool) {
	w := s.w
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	recordRun(w.t, args)
	cmd := exec.CommandContext(ctx, secretboot(w.t), args...)
	cmd.Dir = w.root
	cmd.Env = append(append([]string(nil), w.env...), s.env()...)
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	throttled := make(chan struct{})
	var hammers sync.WaitGroup
	for range 4 {
		hammers.Add(1)
		go func() {
			defer hammers.Done()
			for {
				select {
				case <-throttled:
					return
				case <-ctx.Done():
					return
				default:
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "secretsmanager.ListSecrets")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
		}()
	}
	// Let the hammers drain the bucket before the CLI asks.
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	var once sync.Once
	stopHammers := func() { once.Do(func() { close(throttled) }) }
	sc := bufio.NewScanner(errPipe)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	sawThrottle := false
	for sc.Scan() {
		line := sc.Bytes()
		stderr.Write(line)
		stderr.Write([]byte{'\n'})
		if bytes.Contains(line, []byte("ThrottlingException")) {
			sawThrottle = true
			stopHammers()
		}
	}
	err = cmd.Wait()
	stopHammers()
	hammers.Wait()
	r := w.finish(strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	if want >= 0 && r.code != want {
		w.t.Fatalf("`secretboot %s` exited %d, want %d\nstderr:\n%s", r.label, r.code, want, r.stderr)
	}
	return r, sawThrottle
}
