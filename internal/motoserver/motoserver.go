// Package motoserver starts moto's server (python3 -m moto.server), the
// independent AWS emulator that tests compare the sandbox and the engine
// with. It is used by tests only.
//
// Several test binaries start their own moto at once. Picking a port with
// net.Listen(":0") and closing it races: the kernel may hand the same
// ephemeral port to another test's listener, one moto fails to bind, and a
// test talks to another test's server until that one is stopped ("use of
// closed network connection"). So the port is drawn at random below the
// ephemeral range, where no port-0 listener lands, and checked free; a
// server that exits before it answers (the port was taken after all) is
// retried on another port.
package motoserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// ErrUnavailable: python3 cannot import moto.server. Callers skip, or fail
// where SECRETBOOT_REQUIRE_TOOLS=1 makes moto mandatory.
var ErrUnavailable = errors.New("moto is not available (python3 -m moto.server); install moto[server]")

// Ports below Linux's default ephemeral range (32768–60999), so that no
// listener on port 0 is given one.
const firstPort, ports = 20000, 10000

// Start runs a moto server on a free loopback port and returns its URL and
// a function that stops it.
func Start() (url string, stop func(), err error) {
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		return "", nil, ErrUnavailable
	}
	for range 5 {
		url, stop, err = startOnce(firstPort + rand.IntN(ports))
		if err == nil || !errors.Is(err, errExited) {
			return url, stop, err
		}
	}
	return "", nil, err
}

var errExited = errors.New("moto exited before it answered")

func startOnce(port int) (string, func(), error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%w: port %d is taken", errExited, port)
	}
	_ = l.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() { _ = cmd.Process.Kill(); <-exited }
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			return "", nil, errExited
		default:
		}
		resp, err := client.Get(url + "/moto-api/")
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		return url, stop, nil
	}
	stop()
	return "", nil, fmt.Errorf("moto did not answer on %s within 30s", url)
}
