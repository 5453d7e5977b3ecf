package policy

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *Document
		wantErr string
	}{
		{
			name: "strings and lists",
			in: `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A","Effect":"Allow",
				"Action":"secretsmanager:GetSecretValue","Resource":["b","a"]}]}`,
			want: &Document{Version: "2012-10-17", ID: "x", Statement: []Statement{{
				Sid: "A", Effect: Allow, Action: StringList{"secretsmanager:GetSecretValue"}, Resource: StringList{"b", "a"},
			}}},
		},
		{
			name: "statement as a single object, no version",
			in:   `{"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"*"}}`,
			want: &Document{Statement: []Statement{{Effect: Deny, NotAction: StringList{"iam:*"}, NotResource: StringList{"*"}}}},
		},
		{
			name: "version 2008",
			in:   `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			want: &Document{Version: "2008-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"*"}, Resource: StringList{"*"}}}},
		},
		{
			name: "principals",
			in: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":["arn:aws:iam::1:root"]},"Action":"sts:AssumeRole"},
				{"Effect":"Deny","NotPrincipal":"*","Action":"sts:AssumeRole"}]}`,
			want: &Document{Statement: []Statement{
				{Effect: Allow, Principal: &Principal{Values: map[string]StringList{"Service": {"ec2.amazonaws.com"}, "AWS": {"arn:aws:iam::1:root"}}}, Action: StringList{"sts:AssumeRole"}},
				{Effect: Deny, NotPrincipal: &Principal{Wildcard: true}, Action: StringList{"sts:AssumeRole"}},
			}},
		},
		{
			name: "condition values of every JSON scalar type",
			in: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
				"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"n":[10, -1.5]},"StringEquals":{"k":[]}}}]}`,
			want: &Document{Statement: []Statement{{Effect: Allow, Action: StringList{"*"}, Resource: StringList{"*"}, Condition: Conditions{
				"Bool":            {"aws:SecureTransport": {"true"}},
				"NumericLessThan": {"n": {"10", "-1.5"}},
				"StringEquals":    {"k": {}},
			}}}},
		},
		{
			name: "URL-encoded as IAM returns it",
			in:   url.PathEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b+c","Resource":"x y"}]}`),
			want: &Document{Version: "2012-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"a:b+c"}, Resource: StringList{"x y"}}}},
		},
		{name: "not JSON", in: `{"Statement":`, wantErr: "not valid JSON"},
		{name: "trailing data", in: `{"Statement":[{"Effect":"Allow","Action":"*"}]} {}`, wantErr: "not valid JSON"},
		{name: "bad URL encoding", in: `%zz`, wantErr: "not URL-encoded JSON"},
		{name: "not an object", in: `["Statement"]`, wantErr: "document: want a JSON object"},
		{name: "bad version", in: `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"*"}]}`, wantErr: "unsupported Version"},
		{name: "version not a string", in: `{"Version":2012,"Statement":[{"Effect":"Allow","Action":"*"}]}`, wantErr: "Version must be a string"},
		{name: "id not a string", in: `{"Id":1,"Statement":[{"Effect":"Allow","Action":"*"}]}`, wantErr: "Id must be a string"},
		{name: "unknown top-level key", in: `{"statement":[{"Effect":"Allow","Action":"*"}]}`, wantErr: `unknown element "statement"`},
		{name: "duplicate key", in: `{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*"}]}`, wantErr: `duplicate element "Effect"`},
		{name: "missing statement", in: `{"Version":"2012-10-17"}`, wantErr: "missing Statement"},
		{name: "empty statement", in: `{"Statement":[]}`, wantErr: "Statement is empty"},
		{name: "statement a string", in: `{"Statement":"x"}`, wantErr: "Statement must be"},
		{name: "unknown statement key", in: `{"Statement":[{"Effect":"Allow","Action":"*","Resources":"*"}]}`, wantErr: `statement 1: unknown element "Resources"`},
		{name: "duplicate sid", in: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*"},{"Sid":"A","Effect":"Deny","Action":"*"}]}`, wantErr: `statement 2: duplicate Sid "A"`},
		{name: "missing effect", in: `{"Statement":[{"Action":"*"}]}`, wantErr: "missing Effect"},
		{name: "bad effect", in: `{"Statement":[{"Effect":"allow","Action":"*"}]}`, wantErr: "Effect must be"},
		{name: "sid not a string", in: `{"Statement":[{"Sid":1,"Effect":"Allow","Action":"*"}]}`, wantErr: "Sid must be a string"},
		{name: "missing action", in: `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, wantErr: "missing Action or NotAction"},
		{name: "action and notaction", in: `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"x"}]}`, wantErr: "both Action and NotAction"},
		{name: "resource and notresource", in: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}]}`, wantErr: "both Resource and NotResource"},
		{name: "principal and notprincipal", in: `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}]}`, wantErr: "both Principal and NotPrincipal"},
		{name: "empty action list", in: `{"Statement":[{"Effect":"Allow","Action":[]}]}`, wantErr: "Action is empty"},
		{name: "numeric action", in: `{"Statement":[{"Effect":"Allow","Action":1}]}`, wantErr: "want a string or a list of strings"},
		{name: "bad principal string", in: `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"arn:aws:iam::1:root"}]}`, wantErr: `must be "*"`},
		{name: "unknown principal type", in: `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{"Aws":"*"}}]}`, wantErr: `unknown element "Aws"`},
		{name: "empty principal", in: `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{}}]}`, wantErr: "no principal given"},
		{name: "empty principal list", in: `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{"AWS":[]}}]}`, wantErr: "AWS is empty"},
		{name: "unknown operator", in: `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEqual":{"k":"v"}}}]}`, wantErr: `unknown condition operator "StringEqual"`},
		{name: "unknown set operator", in: `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"ForSomeValues:StringEquals":{"k":"v"}}}]}`, wantErr: "unknown condition set operator"},
		{name: "null condition value", in: `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":null}}}]}`, wantErr: "want a string, number, boolean"},
		{name: "condition not an object", in: `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":"k"}}]}`, wantErr: "want a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantIndent  string
		wantCompact string
	}{
		{
			name: "ordering, sorting, de-duplication, single values",
			in: `{"Statement":[{"Resource":["b","a","b"],"Action":["s:B","s:A"],"Effect":"Allow","Sid":"S",
				"Condition":{"StringLike":{"z":["2","1"],"a":"x"},"Bool":{"k":true}}},
				{"Effect":"Deny","NotAction":"x:Y","Principal":{"Service":["b","a"],"AWS":"*"}}],"Id":"i","Version":"2012-10-17"}`,
			wantIndent: `{
  "Version": "2012-10-17",
  "Id": "i",
  "Statement": [
    {
      "Sid": "S",
      "Effect": "Allow",
      "Action": [
        "s:A",
        "s:B"
      ],
      "Resource": [
        "a",
        "b"
      ],
      "Condition": {
        "Bool": {
          "k": "true"
        },
        "StringLike": {
          "a": "x",
          "z": [
            "1",
            "2"
          ]
        }
      }
    },
    {
      "Effect": "Deny",
      "Principal": {
        "AWS": "*",
        "Service": [
          "a",
          "b"
        ]
      },
      "NotAction": "x:Y"
    }
  ]
}
`,
			wantCompact: `{"Version":"2012-10-17","Id":"i","Statement":[{"Sid":"S","Effect":"Allow","Action":["s:A","s:B"],"Resource":["a","b"],"Condition":{"Bool":{"k":"true"},"StringLike":{"a":"x","z":["1","2"]}}},{"Effect":"Deny","Principal":{"AWS":"*","Service":["a","b"]},"NotAction":"x:Y"}]}`,
		},
		{
			name:        "wildcard principal, empty values, no HTML escaping",
			in:          `{"Statement":{"Effect":"Allow","Principal":"*","Action":"a","Resource":"<x>&","Condition":{"StringEquals":{"k":[]}, "Null":{}}}}`,
			wantIndent:  "{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"a\",\n      \"Resource\": \"<x>&\",\n      \"Condition\": {\n        \"Null\": {},\n        \"StringEquals\": {\n          \"k\": []\n        }\n      }\n    }\n  ]\n}\n",
			wantCompact: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"<x>&","Condition":{"Null":{},"StringEquals":{"k":[]}}}]}`,
		},
		{
			name:        "escaping",
			in:          `{"Statement":[{"Effect":"Allow","Action":"a","Resource":"q\"b\\é\n\u2028"}]}`,
			wantIndent:  "{\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"a\",\n      \"Resource\": \"q\\\"b\\\\é\\n\\u2028\"\n    }\n  ]\n}\n",
			wantCompact: `{"Statement":[{"Effect":"Allow","Action":"a","Resource":"q\"b\\é\n\u2028"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantIndent, string(d.Canonical())); diff != "" {
				t.Errorf("Canonical() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCompact, string(d.Compact())); diff != "" {
				t.Errorf("Compact() mismatch (-want +got):\n%s", diff)
			}
			if got, want := Size(d), utf8.RuneCountInString(tt.wantCompact); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			// The canonical form is a fixed point.
			again, err := Parse(d.Canonical())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(d.Canonical()), string(again.Canonical())); diff != "" {
				t.Errorf("re-parsed Canonical() differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDocumentJSON(t *testing.T) {
	d := Document{Version: "2012-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"b", "a"}, Resource: StringList{"*"}}}}
	// A Document held by value inside another value encodes canonically too.
	wrapped, err := json.Marshal(struct{ Policy Document }{d})
	if err != nil {
		t.Fatal(err)
	}
	b := d.Compact()
	if want := `{"Policy":` + string(b) + `}`; string(wrapped) != want {
		t.Errorf("json.Marshal = %s, want %s", wrapped, want)
	}
	var got Document
	if err := got.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	want := &Document{Version: "2012-10-17", Statement: []Statement{{Effect: Allow, Action: StringList{"a", "b"}, Resource: StringList{"*"}}}}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	if err := got.UnmarshalJSON([]byte(`{}`)); err == nil {
		t.Error("UnmarshalJSON({}) succeeded, want an error")
	}
}

func TestStringListJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want StringList
		out  string
	}{
		{"string", `"a"`, StringList{"a"}, `"a"`},
		{"list keeps order", `["b","a"]`, StringList{"b", "a"}, `["b","a"]`},
		{"empty list", `[]`, StringList{}, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got StringList
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unmarshal mismatch (-want +got):\n%s", diff)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.out {
				t.Errorf("Marshal = %s, want %s", b, tt.out)
			}
		})
	}
	var l StringList
	if err := json.Unmarshal([]byte(`[1]`), &l); err == nil {
		t.Error("Unmarshal([1]) succeeded, want an error")
	}
	if b, _ := json.Marshal(struct{ L StringList }{}); string(b) != `{"L":null}` {
		t.Errorf("nil StringList marshals as %s", b)
	}
}

func TestRawSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"empty", "", 0},
		{"whitespace only", " \n\t\r", 0},
		{"indentation not counted", "{\n  \"a\": \"b\"\n}\n", 9},
		{"characters, not bytes", `"é€"`, 4},
		{"no-break space and next-line count", "\u00a0\u0085", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RawSize([]byte(tt.in)); got != tt.want {
				t.Errorf("RawSize(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["b","a"],"Resource":"*"}]}`,
		`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["x","y"]},"NotAction":"*","NotResource":["a"],"Condition":{"ForAnyValue:StringLikeIfExists":{"k":[1,true,"v"]}}}}`,
		`%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%7D%5D%7D`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Condition":{"Null":{"k":"true"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		c := d.Canonical()
		again, err := Parse(c)
		if err != nil {
			t.Fatalf("Canonical() does not re-parse: %v\n%s", err, c)
		}
		if diff := cmp.Diff(d.normalized(), again); diff != "" {
			t.Fatalf("re-parsed document differs (-want +got):\n%s", diff)
		}
		if Size(d) != RawSize(again.Compact()) || Size(d) != RawSize(c) {
			t.Fatalf("Size differs between forms or after a round trip")
		}
	})
}
