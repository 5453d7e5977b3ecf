package redact_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/secretboot/secretboot/internal/escape"
	"github.com/secretboot/secretboot/internal/redact"
	"github.com/secretboot/secretboot/spec"
)

func TestMinLengthMatchesSpec(t *testing.T) {
	if redact.MinLength != spec.MinMaskedLength {
		t.Fatalf("redact.MinLength = %d, spec.MinMaskedLength = %d; validate's warning and the masker must agree", redact.MinLength, spec.MinMaskedLength)
	}
}

// encoding embeds a secret between neighbouring bytes the way a library or
// an endpoint might write it.
type encoding struct {
	name string
	enc  func(before, secret, after []byte) string
}

func jsonString(s string, html bool) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(html)
	if err := e.Encode(s); err != nil {
		panic(err)
	}
	return b.String()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var encodings = []encoding{
	{"raw", func(b, s, a []byte) string { return string(cat(b, s, a)) }},
	{"json", func(b, s, a []byte) string { return jsonString(string(cat(b, s, a)), true) }},
	{"json without html escaping", func(b, s, a []byte) string { return jsonString(string(cat(b, s, a)), false) }},
	{"go %q", func(b, s, a []byte) string { return fmt.Sprintf("%q", cat(b, s, a)) }},
	{"go %+q", func(b, s, a []byte) string { return fmt.Sprintf("%+q", cat(b, s, a)) }},
	{"base64 std", func(b, s, a []byte) string { return base64.StdEncoding.EncodeToString(cat(b, s, a)) }},
	{"base64 std raw", func(b, s, a []byte) string { return base64.RawStdEncoding.EncodeToString(cat(b, s, a)) }},
	{"base64 url", func(b, s, a []byte) string { return base64.URLEncoding.EncodeToString(cat(b, s, a)) }},
	{"base64 url raw", func(b, s, a []byte) string { return base64.RawURLEncoding.EncodeToString(cat(b, s, a)) }},
	{"hex", func(b, s, a []byte) string { return hex.EncodeToString(cat(b, s, a)) }},
	{"HEX", func(b, s, a []byte) string { return fmt.Sprintf("%X", cat(b, s, a)) }},
	{"url query", func(b, s, a []byte) string { return url.Values{"k": {string(cat(b, s, a))}}.Encode() }},
	{"url path", func(b, s, a []byte) string { return url.PathEscape(string(cat(b, s, a))) }},
}

// leaked reports an occurrence of a form of secret in out that no
// replacement covers. Masking can only create a form by joining
// "(masked)" with its neighbours, so any other occurrence was missed.
func leaked(out []byte, secret []byte) (string, bool) {
	var covered []bool
	for _, f := range redact.Forms(secret) {
		for off := 0; ; {
			i := bytes.Index(out[off:], []byte(f))
			if i < 0 {
				break
			}
			i += off
			if covered == nil {
				covered = make([]bool, len(out))
				for j := 0; ; {
					k := bytes.Index(out[j:], []byte(redact.Replacement))
					if k < 0 {
						break
					}
					for x := j + k; x < j+k+len(redact.Replacement); x++ {
						covered[x] = true
					}
					j += k + 1
				}
			}
			hit := false
			for x := i; x < i+len(f); x++ {
				hit = hit || covered[x]
			}
			if !hit {
				return f, true
			}
			off = i + 1
		}
	}
	return "", false
}

var secrets = []string{
	"hunter2hunter2",
	"8bytes!!",
	`p@ss<w>&"rd/+=?ä€ 🙂`,
	"line-one\\tab\ttab\x00\x7f",
	"\xff\xfe\x00binary\x01\x02\x03",
}

func TestMaskEveryEncodingAndAlignment(t *testing.T) {
	for _, s := range secrets {
		for _, e := range encodings {
			for _, before := range []string{"", "a", "ab", "abc"} {
				for _, after := range []string{"", "z", "yz"} {
					name := fmt.Sprintf("%s/%q/%d+%d", e.name, s, len(before), len(after))
					t.Run(name, func(t *testing.T) {
						m := redact.New()
						m.Add([]byte(s))
						text := "log: " + e.enc([]byte(before), []byte(s), []byte(after)) + " :end"
						out, n := m.Mask([]byte(text))
						if f, ok := leaked(out, []byte(s)); ok {
							t.Fatalf("form %q survives in %q", f, out)
						}
						if n == 0 || m.Hits() != n {
							t.Fatalf("hits = %d, Hits() = %d, want > 0 and equal; out %q", n, m.Hits(), out)
						}
						if !bytes.HasPrefix(out, []byte("log: ")) || !bytes.HasSuffix(out, []byte(" :end")) {
							t.Errorf("surrounding text lost: %q", out)
						}
					})
				}
			}
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name     string
		secrets  []string
		in, want string
		hits     int
	}{
		{"nothing registered", nil, "hunter2hunter2", "hunter2hunter2", 0},
		{"raw", []string{"hunter2hunter2"}, "pw=hunter2hunter2.", "pw=(masked).", 1},
		{"twice", []string{"hunter2hunter2"}, "hunter2hunter2 hunter2hunter2", "(masked) (masked)", 2},
		{"too short to mask", []string{"hunter2"}, "pw=hunter2", "pw=hunter2", 0},
		{"longest form wins", []string{"abcdefgh", "abcdefghijkl"}, "<abcdefghijkl>", "<(masked)>", 1},
		{"overlapping secrets merge", []string{"abcdefghij", "ghijklmnop"}, "xxabcdefghijklmnopyy", "xx(masked)yy", 1},
		{"nested secrets", []string{"0123456789abcdef", "456789ab"}, "-0123456789abcdef-456789ab-", "-(masked)-(masked)-", 2},
		{"self-overlapping", []string{"aaaaaaaaaa"}, "aaaaaaaaaaaaaaa!", "(masked)!", 1},
		{"lines of a multi-line secret", []string{"first-line-long\nshort\r\nthird-line-long"}, "a third-line-long b short c", "a (masked) b short c", 1},
		{"whole multi-line secret", []string{"first-line-long\nshort"}, "[first-line-long\nshort]", "[(masked)]", 1},
		{"short input", []string{"hunter2hunter2"}, "hunt", "hunt", 0},
		{"prefix only", []string{"hunter2hunter2"}, "hunter2hunter", "hunter2hunter", 0},
		{"same prefix and length, other text", []string{"hunter2hunter2"}, "hunter2hunterX", "hunter2hunterX", 0},
		{"one prefix, several lengths", []string{"abcdefgh-long-one", "abcdefgh-mid", "abcdefgh"}, "abcdefgh-mid abcdefgh-lon", "(masked) (masked)-lon", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := redact.New()
			for _, s := range tt.secrets {
				m.Add([]byte(s))
			}
			in := []byte(tt.in)
			got, n := m.Mask(in)
			if string(got) != tt.want || n != tt.hits {
				t.Errorf("Mask(%q) = %q, %d; want %q, %d", tt.in, got, n, tt.want, tt.hits)
			}
			if string(in) != tt.in {
				t.Errorf("Mask changed its input: %q", in)
			}
		})
	}
}

func TestForms(t *testing.T) {
	got := redact.Forms([]byte("ab<cd>ef"))
	for _, want := range []string{
		"ab<cd>ef", `ab\u003ccd\u003eef`, "YWI8Y2Q+ZWY=", "YWI8Y2Q-ZWY", "61623c63643e6566", "61623C63643E6566",
		"ab%3Ccd%3Eef",
	} {
		found := false
		for _, f := range got {
			found = found || f == want
		}
		if !found {
			t.Errorf("Forms lacks %q: %q", want, got)
		}
	}
	seen := map[string]bool{}
	for _, f := range got {
		if seen[f] {
			t.Errorf("duplicate form %q", f)
		}
		seen[f] = true
	}
}

func TestWriter(t *testing.T) {
	const s = "hunter2hunter2"
	tests := []struct {
		name   string
		writes []string
		flush  bool
		want   string
	}{
		{"line", []string{"pw=" + s + "\n"}, false, "pw=(masked)\n"},
		{"secret across writes", []string{"pw=hunt", "er2hun", "ter2 ok\n"}, false, "pw=(masked) ok\n"},
		{"partial line waits", []string{"pw=" + s}, false, ""},
		{"flush writes the partial line masked", []string{"pw=" + s}, true, "pw=(masked)"},
		{"carriage return ends a line", []string{"\r\x1b[K  status " + s + "\r", "tail"}, false, "\r\x1b[K  status (masked)\r"},
		{"several lines at once", []string{"a " + s + "\nb " + s + "\nc"}, true, "a (masked)\nb (masked)\nc"},
		{"multi-line secret in one write", []string{"first-line-long\nxy\n"}, false, "(masked)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := redact.New()
			m.Add([]byte(s))
			m.Add([]byte("first-line-long\nxy"))
			var out bytes.Buffer
			w := m.Writer(&out)
			for _, p := range tt.writes {
				if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if tt.flush {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if out.String() != tt.want {
				t.Errorf("wrote %q, want %q", out.String(), tt.want)
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriterReportsErrors(t *testing.T) {
	w := redact.New().Writer(failWriter{})
	if _, err := w.Write([]byte("line\n")); err == nil {
		t.Error("Write of a full line: no error")
	}
	if _, err := w.Write([]byte("partial")); err != nil {
		t.Errorf("Write of a partial line: %v", err)
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush: no error")
	}
}

// TestConcurrent adds secrets while several goroutines write lines holding
// them; run with -race.
func TestConcurrent(t *testing.T) {
	m := redact.New()
	var out syncBuffer
	w := m.Writer(&out)
	const n = 50
	secret := func(i int) string { return fmt.Sprintf("concurrent-secret-%04d", i) }
	for i := 0; i < n; i++ {
		m.Add([]byte(secret(i)))
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); m.Add([]byte(secret(n + i))) }()
		go func() {
			defer wg.Done()
			fmt.Fprintf(w, "line %d: %s\n", i, secret(i))
		}()
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "concurrent-secret-") {
		t.Fatalf("unmasked secret in %q", out.String())
	}
	if got := strings.Count(out.String(), "(masked)\n"); got != n || m.Hits() != n {
		t.Errorf("masked lines = %d, Hits = %d, want %d", got, m.Hits(), n)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FuzzMaskHidesSecret embeds a secret in random text in a random encoding:
// the masked output holds no form of it that a replacement does not cover,
// and when the secret and the text are valid UTF-8 (so the encoders write
// the secret's bytes as they would alone) at least one replacement is made.
func FuzzMaskHidesSecret(f *testing.F) {
	f.Add([]byte("hunter2hunter2"), []byte("pre"), []byte("post"), uint8(0), []byte("noise"))
	f.Add([]byte(`p@ss<w>&"rd`), []byte("a"), []byte(""), uint8(5), []byte(""))
	f.Add([]byte("\xff\x00\x01binary!"), []byte("ab"), []byte("z"), uint8(9), []byte("hunter"))
	f.Fuzz(func(t *testing.T, secret, before, after []byte, which uint8, noise []byte) {
		if len(secret) < redact.MinLength {
			t.Skip()
		}
		e := encodings[int(which)%len(encodings)]
		text := cat(noise, []byte(e.enc(before, secret, after)), noise)
		m := redact.New()
		m.Add(secret)
		out, n := m.Mask(text)
		if form, ok := leaked(out, secret); ok {
			t.Fatalf("%s: form %q survives in %q", e.name, form, out)
		}
		// A secret that is not UTF-8 by itself may complete a character
		// with its neighbours, and quoting encoders then write that
		// character, not the secret's escapes; payload strings are UTF-8.
		if n == 0 && utf8.Valid(secret) && utf8.Valid(cat(before, secret, after)) {
			t.Fatalf("%s: no replacement in %q", e.name, out)
		}
	})
}

// BenchmarkScale is a plan-sized load: 10,000 registered secrets (about
// 150,000 forms) and 1 MiB of output holding none of them.
func BenchmarkScale(b *testing.B) {
	m := redact.New()
	for i := 0; i < 10000; i++ {
		m.Add([]byte(fmt.Sprintf("payload-%06d-%x", i, i*7919)))
	}
	line := []byte(`  + secret "app/db-0001" (sensitive) readers = ["web", "worker"] arn:aws:secretsmanager:us-east-1:000000000000:secret:x` + "\n")
	text := bytes.Repeat(line, 1<<20/len(line))
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, n := m.Mask(text); n != 0 {
			b.Fatal(n)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	m := redact.New()
	for i := 0; i < b.N; i++ {
		m.Add([]byte(fmt.Sprintf("payload-%09d", i)))
	}
}

// BenchmarkAddObjectPayloads registers what validate registers at
// N=10,000: object payloads that all begin with the same bytes, so every
// one of their forms lands under one prefix.
func BenchmarkAddObjectPayloads(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m := redact.New()
		for j := 0; j < 10000; j++ {
			m.Add([]byte(fmt.Sprintf(`{"host":"db-%05d.internal","password":"%016x"}`, j, j*7919)))
		}
	}
}

// TestMasksViewEscapings: a secret as the Markdown, HTML, Mermaid and DOT
// views and the HCL of the installers would write it (internal/escape) is
// masked like its raw form.
func TestMasksViewEscapings(t *testing.T) {
	secret := "p4ss_w*rd<&>|[x]${~`\"\t\f"
	m := redact.New()
	m.Add([]byte(secret))
	hcl := escape.HCLString(secret)
	for name, form := range map[string]string{
		"markdown":    escape.Markdown(secret),
		"html":        escape.HTML(secret),
		"mermaid":     escape.Mermaid(secret),
		"dot":         escape.DOT(secret),
		"hcl-string":  hcl[1 : len(hcl)-1],
		"hcl-heredoc": escape.HCLHeredoc(secret),
	} {
		if form == secret {
			t.Fatalf("%s: the form equals the secret; the test needs characters that escape", name)
		}
		out, n := m.Mask([]byte("| cell | " + form + " |"))
		if n != 1 || bytes.Contains(out, []byte(form)) {
			t.Errorf("%s form %q: masked %d times: %q", name, form, n, out)
		}
	}
}
