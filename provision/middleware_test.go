package provision

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// closableBody reads like smithy-go's safe body: once closed, it reads as
// EOF.
type closableBody struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func (b *closableBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *closableBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestDetachedBodyOutlivesTheSDKClose: the transport still reads the body
// after smithy-go has closed the one it built (it does so as soon as Do
// returns), and a retry can read it again.
func TestDetachedBodyOutlivesTheSDKClose(t *testing.T) {
	const form = "Action=GetRolePolicy&PolicyName=p&RoleName=r&Version=2010-05-08"
	sdkBody := &closableBody{r: strings.NewReader(form)}
	req, err := http.NewRequest(http.MethodPost, "http://sandbox.invalid/", sdkBody)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(form))
	var sent *http.Request
	c := detachedBodyClient{next: doFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})}
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	_ = sdkBody.Close()

	got, err := io.ReadAll(sent.Body)
	if err != nil || string(got) != form {
		t.Errorf("the transport read %q, %v after the SDK closed its body; want the whole form", got, err)
	}
	again, err := sent.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(again); !bytes.Equal(got, []byte(form)) {
		t.Errorf("GetBody gave %q, want the whole form", got)
	}
	if sent.ContentLength != int64(len(form)) {
		t.Errorf("ContentLength = %d, want %d", sent.ContentLength, len(form))
	}
}
