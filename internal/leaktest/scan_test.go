package leaktest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/secretboot/secretboot/internal/escape"
)

// A canary is a payload value the harness plants and then searches for.
type canary struct {
	source string // where the payload came from: env, file, generated, …
	value  []byte
}

// newCanary returns a unique printable canary. The tail holds characters
// that every encoding changes (quote, backslash, slash, plus, ampersand,
// angle brackets, space, a non-ASCII letter), so that an encoded copy
// differs from the raw one and each encoding is really searched for.
func newCanary(source string) canary {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return canary{source: source, value: []byte(fmt.Sprintf(`CNRY-%s-%x q"b\s/p+a&l<g>é z`, source, b))}
}

// needle is one encoded form of a canary.
type needle struct {
	encoding string
	bytes    []byte
}

// minNeedle is the shortest encoded form searched for: shorter fragments
// (the aligned base64 core of a very short value) could match by chance.
const minNeedle = 12

// needles returns the encoded forms of v that the scanner searches for.
func needles(v []byte) []needle {
	trim := func(s string) []byte { return []byte(s[1 : len(s)-1]) }
	jsonEscape := func(b []byte) []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(string(b))
		return trim(strings.TrimSuffix(buf.String(), "\n"))
	}
	jsonEscapeHTML := func(b []byte) []byte {
		j, _ := json.Marshal(string(b))
		return trim(string(j))
	}
	out := []needle{
		{"raw", v},
		{"json", jsonEscape(v)},
		{"json-html", jsonEscapeHTML(v)},
		// A JSON document (an object payload) inside a JSON string, such
		// as a JSON log line or a state file; either level may escape HTML.
		{"json-in-json", jsonEscape(jsonEscape(v))},
		{"json-in-json-html", jsonEscapeHTML(jsonEscape(v))},
		{"json-html-in-json", jsonEscape(jsonEscapeHTML(v))},
		{"json-html-in-json-html", jsonEscapeHTML(jsonEscapeHTML(v))},
		{"go-quoted", trim(strconv.Quote(string(v)))},
		{"go-quoted-ascii", trim(strconv.QuoteToASCII(string(v)))},
		{"hex", []byte(hex.EncodeToString(v))},
		{"HEX", []byte(strings.ToUpper(hex.EncodeToString(v)))},
		{"url-query", []byte(url.QueryEscape(string(v)))},
		{"url-path", []byte(url.PathEscape(string(v)))},
		// The Markdown views escape spec text for pull-request comments.
		{"markdown", []byte(escape.Markdown(string(v)))},
		{"markdown-go-quoted", []byte(escape.Markdown(string(trim(strconv.Quote(string(v))))))},
		{"html", []byte(escape.HTML(string(v)))},
		{"mermaid", []byte(escape.Mermaid(string(v)))},
	}
	for _, e := range []struct {
		name string
		enc  *base64.Encoding
	}{
		{"base64-std", base64.StdEncoding},
		{"base64-std-raw", base64.RawStdEncoding},
		{"base64-url", base64.URLEncoding},
		{"base64-url-raw", base64.RawURLEncoding},
	} {
		out = append(out, needle{e.name, []byte(e.enc.EncodeToString(v))})
	}
	// Inside a larger base64 blob the canary starts at byte offset 0, 1 or
	// 2 of a 3-byte group. The whole groups that follow encode the same way
	// whatever surrounds them, so search for those.
	for align := range 3 {
		skip := (3 - align) % 3
		if skip >= len(v) {
			continue
		}
		body := v[skip:]
		body = body[:len(body)/3*3]
		for _, e := range []struct {
			name string
			enc  *base64.Encoding
		}{{"base64-std", base64.RawStdEncoding}, {"base64-url", base64.RawURLEncoding}} {
			out = append(out, needle{fmt.Sprintf("%s@%d", e.name, align), []byte(e.enc.EncodeToString(body))})
		}
	}
	kept := out[:0]
	for _, n := range out {
		if len(n.bytes) >= minNeedle {
			kept = append(kept, n)
		}
	}
	return kept
}

// A hit is a canary found in an output.
type hit struct {
	command, channel, source, encoding string
	context                            string
}

// scanner searches outputs for canaries and counts the (command × source ×
// channel × encoding) combinations it checked.
type scanner struct {
	mu      sync.Mutex
	entries []entry
	checked int
	hits    []hit
}

// entry is one canary, encoded.
type entry struct {
	source  string
	needles []needle
}

func newScanner() *scanner { return &scanner{} }

// add registers canaries; adding the same source twice keeps both values
// (a payload that changed during the scenario).
func (s *scanner) add(cs ...canary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		if len(c.value) == 0 {
			continue
		}
		s.entries = append(s.entries, entry{c.source, needles(c.value)})
	}
}

// scan checks data, written by command to channel, for every canary.
func (s *scanner) scan(command, channel string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		for _, n := range e.needles {
			s.checked++
			if i := bytes.Index(data, n.bytes); i >= 0 {
				lo, hi := max(0, i-40), min(len(data), i+len(n.bytes)+40)
				s.hits = append(s.hits, hit{command, channel, e.source, n.encoding, strconv.Quote(string(data[lo:hi]))})
			}
		}
	}
}

// scanExcept is scan without the canaries that original already holds in
// any encoding: a spec file fmt rewrote keeps the literal payloads it had.
func (s *scanner) scanExcept(command, channel string, data, original []byte) {
	s.mu.Lock()
	kept := &scanner{}
	for _, e := range s.entries {
		if !slices.ContainsFunc(e.needles, func(n needle) bool { return bytes.Contains(original, n.bytes) }) {
			kept.entries = append(kept.entries, e)
		}
	}
	s.mu.Unlock()
	kept.scan(command, channel, data)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked += kept.checked
	s.hits = append(s.hits, kept.hits...)
}

// report fails t for every hit and logs the count of combinations checked.
func (s *scanner) report(t *testing.T) {
	t.Helper()
	checked, hits := s.settle(t)
	t.Logf("leaktest: %d combinations checked, %d hits", checked, hits)
}

// settle fails t for every hit, adds the count of combinations checked to
// the total and returns it, with the number of hits.
func (s *scanner) settle(t *testing.T) (checked, hits int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hits {
		t.Errorf("LEAK: %s payload (%s) in %s of `%s`: …%s…", h.source, h.encoding, h.channel, h.command, h.context)
	}
	if s.checked == 0 {
		t.Fatal("leaktest: nothing was checked")
	}
	totalChecked.add(s.checked)
	return s.checked, len(s.hits)
}

// sources lists the canary sources, sorted, for the log.
func (s *scanner) sources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range s.entries {
		if !seen[e.source] {
			seen[e.source] = true
			out = append(out, e.source)
		}
	}
	sort.Strings(out)
	return out
}

// totalChecked sums the combinations of every test, printed by TestMain.
var totalChecked counter

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add(n int) { c.mu.Lock(); c.n += n; c.mu.Unlock() }
func (c *counter) get() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestScannerFindsEveryEncoding plants a canary in each encoding, inside
// other text and, for base64, inside a larger blob at each alignment, and
// checks that the scanner finds it: a harness that cannot see a leak would
// pass for the wrong reason.
func TestScannerFindsEveryEncoding(t *testing.T) {
	c := newCanary("probe")
	for _, n := range needles(c.value) {
		t.Run(n.encoding, func(t *testing.T) {
			s := newScanner()
			s.add(c)
			s.scan("probe", "stdout", append(append([]byte("prefix "), n.bytes...), " suffix"...))
			if len(s.hits) == 0 {
				t.Errorf("encoding %s not found", n.encoding)
			}
		})
	}
	for pad := range 3 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			blob := append(append(bytes.Repeat([]byte{0xfe}, pad), c.value...), 0x00, 0xff, 0x10)
			t.Run(fmt.Sprintf("inside base64 blob at offset %d", pad), func(t *testing.T) {
				s := newScanner()
				s.add(c)
				s.scan("probe", "stdout", []byte(`{"blob":"`+enc.EncodeToString(blob)+`"}`))
				if len(s.hits) == 0 {
					t.Error("canary inside a base64 blob not found")
				}
			})
		}
	}
	t.Run("clean output", func(t *testing.T) {
		s := newScanner()
		s.add(c)
		s.scan("probe", "stdout", []byte("CNRY-probe- nothing here"))
		if len(s.hits) != 0 {
			t.Errorf("false positive: %+v", s.hits)
		}
	})
}

// TestScanExcept checks that a rewritten spec file is searched for every
// canary except those its original text held, in any encoding.
func TestScanExcept(t *testing.T) {
	kept, dropped := newCanary("kept"), newCanary("dropped")
	s := newScanner()
	s.add(kept, dropped)
	original := []byte("value = " + hclString(string(dropped.value)) + "\n")
	rewritten := append(append([]byte(nil), original...), kept.value...)
	s.scanExcept("fmt", "file spec/main.hcl", rewritten, original)
	if len(s.hits) != 1 || s.hits[0].source != "kept" {
		t.Errorf("hits = %+v, want one of the kept canary", s.hits)
	}
}
