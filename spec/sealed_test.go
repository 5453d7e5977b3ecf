package spec

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sealedCanary = "CANARY-s3cr3t-9f2e"

func TestSealedPrintsNoBytes(t *testing.T) {
	s := SealString(sealedCanary)
	type wrapper struct {
		Name    string
		Payload Sealed
		Ptr     *Sealed
	}
	w := wrapper{Name: "x", Payload: s, Ptr: &s}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p", "%10s", "%-8q", "%08x", "%c", "%U", "%b", "%o", "%e", "%g", "%t"}
	for _, verb := range verbs {
		for name, arg := range map[string]any{"value": s, "pointer": &s, "struct": w, "struct pointer": &w, "slice": []Sealed{s}, "map": map[string]Sealed{"k": s}} {
			t.Run(verb+" "+name, func(t *testing.T) {
				out := fmt.Sprintf(verb, arg)
				if strings.Contains(out, sealedCanary) || strings.Contains(out, fmt.Sprintf("%x", sealedCanary)) {
					t.Fatalf("%s printed the payload: %s", verb, out)
				}
			})
		}
	}
}

func TestSealedEncodersRefuse(t *testing.T) {
	s := SealString(sealedCanary)
	type doc struct {
		Payload Sealed
	}
	tests := []struct {
		name   string
		encode func() ([]byte, error)
	}{
		{"json value", func() ([]byte, error) { return json.Marshal(s) }},
		{"json struct", func() ([]byte, error) { return json.Marshal(doc{s}) }},
		{"json map key", func() ([]byte, error) { return json.Marshal(map[string]any{"p": s}) }},
		{"xml", func() ([]byte, error) { return xml.Marshal(doc{s}) }},
		{"text", func() ([]byte, error) { return s.MarshalText() }},
		{"binary", func() ([]byte, error) { return s.MarshalBinary() }},
		{"gob", func() ([]byte, error) {
			var buf bytes.Buffer
			err := gob.NewEncoder(&buf).Encode(doc{s})
			return buf.Bytes(), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.encode()
			if err == nil {
				t.Fatalf("encoding succeeded: %q", out)
			}
			for _, leak := range []string{string(out), err.Error()} {
				if strings.Contains(leak, sealedCanary) {
					t.Fatalf("payload leaked: %q", leak)
				}
			}
		})
	}
}

func TestSealedInErrorsAndLogs(t *testing.T) {
	s := SealString(sealedCanary)
	base := fmt.Errorf("writing %v", s)
	chain := fmt.Errorf("apply: %w", errors.Join(base, fmt.Errorf("again %s %q", s, s)))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("msg", "payload", s, "err", chain)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("msg", "payload", s, "err", chain)
	for name, out := range map[string]string{"error chain": chain.Error(), "slog": buf.String()} {
		if strings.Contains(out, sealedCanary) {
			t.Errorf("%s leaked the payload: %s", name, out)
		}
	}
}

func TestSealedAccessors(t *testing.T) {
	var zero Sealed
	s := SealString(sealedCanary)
	got := map[string]any{
		"zero len":   zero.Len(),
		"zero empty": zero.IsEmpty(),
		"zero bytes": zero.Reveal(),
		"len":        s.Len(),
		"reveal":     string(s.Reveal()),
		"equal":      s.Equal(SealString(sealedCanary)),
		"unequal":    s.Equal(SealString("other")),
	}
	want := map[string]any{
		"zero len":   0,
		"zero empty": true,
		"zero bytes": []byte(nil),
		"len":        len(sealedCanary),
		"reveal":     sealedCanary,
		"equal":      true,
		"unequal":    false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accessors (-want +got):\n%s", diff)
	}
	r := s.Reveal()
	r[0] = 'X'
	if string(s.Reveal()) != sealedCanary {
		t.Error("Reveal returned the internal buffer")
	}
}

// TestSealedInvisibleToReflection covers printers that bypass the fmt
// interfaces by walking fields with reflection, as go-cmp's diff reporter
// does when a test fails.
func TestSealedInvisibleToReflection(t *testing.T) {
	const canary = "CANARY-reflect-7f3a"
	type holder struct {
		Name    string
		Payload Sealed
	}
	a := holder{Name: "x", Payload: SealString(canary)}
	b := holder{Name: "y", Payload: SealString(canary + "!")}
	diff := cmp.Diff(a, b, cmp.Exporter(func(reflect.Type) bool { return true }))
	if diff == "" {
		t.Fatal("cmp.Diff reported no difference between different payloads")
	}
	if strings.Contains(diff, canary) {
		t.Fatalf("cmp.Diff revealed the payload:\n%s", diff)
	}
}
