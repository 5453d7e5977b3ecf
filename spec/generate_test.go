package spec

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateRespectsCharsetAndClasses(t *testing.T) {
	tests := []struct {
		name     string
		gen      Generator
		allowed  string
		required []string
	}{
		{"defaults", Generator{Length: 32, Upper: true, Lower: true, Numeric: true, Special: true},
			upperChars + lowerChars + numericChars + specialChars, []string{upperChars, lowerChars, numericChars, specialChars}},
		{"no special", Generator{Length: 16, Upper: true, Lower: true, Numeric: true},
			upperChars + lowerChars + numericChars, []string{upperChars, lowerChars, numericChars}},
		{"digits only", Generator{Length: 6, Numeric: true}, numericChars, []string{numericChars}},
		{"exclusions", Generator{Length: 4, Upper: true, Numeric: true, ExcludeCharacters: "ABCDEFGHIJKLMNOPQRSTUVWXY0123456789"},
			"Z", []string{"Z"}},
		{"exclusion empties a class", Generator{Length: 8, Lower: true, Numeric: true, ExcludeCharacters: numericChars},
			lowerChars, []string{lowerChars}},
		{"length one", Generator{Length: 1, Upper: true, Lower: true, Numeric: true, Special: true},
			upperChars + lowerChars + numericChars + specialChars, nil},
		{"length equals classes", Generator{Length: 4, Upper: true, Lower: true, Numeric: true, Special: true},
			upperChars + lowerChars + numericChars + specialChars, []string{upperChars, lowerChars, numericChars, specialChars}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				s, err := tt.gen.Generate(rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				v := string(s.Reveal())
				if len(v) != tt.gen.Length {
					t.Fatalf("length %d, want %d", len(v), tt.gen.Length)
				}
				for _, r := range v {
					if !strings.ContainsRune(tt.allowed, r) {
						t.Fatalf("character %q outside the charset", r)
					}
				}
				for _, class := range tt.required {
					if !strings.ContainsAny(v, class) {
						t.Fatalf("no character of class %q", class)
					}
				}
			}
		})
	}
}

// TestGenerateUniform checks with a chi-squared test that characters are
// drawn uniformly; the bound is loose enough to fail by chance about once in
// a million runs.
func TestGenerateUniform(t *testing.T) {
	g := Generator{Length: 4096, Lower: true, Numeric: true}
	counts := map[rune]int{}
	total := 0
	for range 5 {
		s, err := g.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range string(s.Reveal()) {
			counts[r]++
			total++
		}
	}
	k := len(lowerChars + numericChars)
	if len(counts) != k {
		t.Fatalf("saw %d distinct characters, want %d", len(counts), k)
	}
	expected := float64(total) / float64(k)
	chi2 := 0.0
	for _, c := range counts {
		chi2 += math.Pow(float64(c)-expected, 2) / expected
	}
	// 35 degrees of freedom: P(chi2 > 80) ≈ 2e-5.
	if chi2 > 80 {
		t.Errorf("chi-squared %.1f over %d characters: not uniform", chi2, total)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		gen  Generator
		r    *bytes.Reader
		want string
	}{
		{"empty charset", Generator{Length: 8}, bytes.NewReader(nil), "generate: no characters left after exclusions"},
		{"length zero", Generator{Length: 0, Lower: true}, bytes.NewReader(nil), "generate: length 0 is outside 1–4096"},
		{"length too big", Generator{Length: 4097, Lower: true}, bytes.NewReader(nil), "generate: length 4097 is outside 1–4096"},
		{"short randomness", Generator{Length: 8, Lower: true}, bytes.NewReader(make([]byte, 10)), "generate: reading randomness: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.gen.Generate(tt.r)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	_, err := Generator{Length: 8, Lower: true}.Generate(bytes.NewReader(nil))
	if !errors.Is(err, io.EOF) {
		t.Errorf("error %v does not wrap io.EOF", err)
	}
}

func TestCompose(t *testing.T) {
	pw := SealString(`p"w<&>`)
	tests := []struct {
		name      string
		payload   Payload
		generated map[string]Sealed
		want      string
		wantErr   string
	}{
		{name: "string", payload: Payload{Kind: KindString, Declared: SealString("plain")}, want: "plain"},
		{name: "binary", payload: Payload{Kind: KindBinary, Declared: Seal([]byte{0, 1, 2})}, want: "\x00\x01\x02"},
		{name: "whole generated", payload: Payload{Kind: KindString, Generators: []Generator{{Length: 6}}},
			generated: map[string]Sealed{"": pw}, want: `p"w<&>`},
		{name: "object with generated field",
			payload: Payload{Kind: KindObject, Declared: SealString(`{"host":"db","port":5432,"username":"app"}`),
				Generators: []Generator{{Field: "password"}}},
			generated: map[string]Sealed{"password": pw},
			want:      `{"host":"db","password":"p\"w<&>","port":5432,"username":"app"}`},
		{name: "only generated fields",
			payload:   Payload{Kind: KindObject, Generators: []Generator{{Field: "b"}, {Field: "a"}}},
			generated: map[string]Sealed{"a": SealString("1"), "b": SealString("2")},
			want:      `{"a":"1","b":"2"}`},
		{name: "missing generated", payload: Payload{Kind: KindObject, Generators: []Generator{{Field: "password"}}},
			wantErr: `compose: no generated value for field "password"`},
		{name: "unexpected generated", payload: Payload{Kind: KindString, Declared: SealString("x")},
			generated: map[string]Sealed{"": pw}, wantErr: "compose: the whole payload is not generated by this payload"},
		{name: "declared not an object",
			payload:   Payload{Kind: KindObject, Declared: SealString(sealedCanary), Generators: []Generator{{Field: "f"}}},
			generated: map[string]Sealed{"f": pw}, wantErr: "compose: the declared payload is not a JSON object"},
		{name: "field clash",
			payload:   Payload{Kind: KindObject, Declared: SealString(`{"f":"x"}`), Generators: []Generator{{Field: "f"}}},
			generated: map[string]Sealed{"f": pw}, wantErr: `compose: field "f" is both declared and generated`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.payload.Compose(tt.generated)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got.Reveal())); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}
