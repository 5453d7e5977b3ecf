package leaktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log"
	"reflect"
	"testing"
	texttemplate "text/template"

	"github.com/secretboot/secretboot/spec"
)

// sealedErr is an error type that carries a payload, as a careless wrapper
// might: printing the chain must still show nothing of it.
type sealedErr struct {
	Op      string
	Payload spec.Sealed
}

func (e *sealedErr) Error() string { return fmt.Sprintf("%s %v", e.Op, e.Payload) }

// TestSealedTypeGuarantees adds to spec/sealed_test.go the paths a payload
// could take by accident that it does not cover: templates, the log
// package, error types holding a payload inside %w and errors.Join chains,
// and reflect.Value printing.
func TestSealedTypeGuarantees(t *testing.T) {
	c := newCanary("sealed")
	s := spec.Seal(c.value)
	holder := struct {
		Name    string
		Payload spec.Sealed
	}{"x", s}
	wrapped := fmt.Errorf("apply: %w", errors.Join(&sealedErr{"write", s}, fmt.Errorf("retry: %w", &sealedErr{"put", s})))

	tests := []struct {
		name   string
		render func() (string, error)
	}{
		{"text/template", func() (string, error) {
			var b bytes.Buffer
			err := texttemplate.Must(texttemplate.New("t").Parse(`{{.}} {{.Payload}} {{printf "%x %q" .Payload .Payload}}`)).Execute(&b, holder)
			return b.String(), err
		}},
		{"html/template", func() (string, error) {
			var b bytes.Buffer
			err := htmltemplate.Must(htmltemplate.New("t").Parse(`<p title="{{.Payload}}">{{.}}</p><script>var p = {{.Payload}};</script>`)).Execute(&b, holder)
			return b.String(), err
		}},
		{"log package", func() (string, error) {
			var b bytes.Buffer
			l := log.New(&b, "", 0)
			l.Print(s, holder, &holder)
			l.Printf("%v %+v %#v %s %q %x %X", s, s, s, s, s, s, s)
			return b.String(), nil
		}},
		{"error chain with %w and errors.Join", func() (string, error) {
			var se *sealedErr
			if !errors.As(wrapped, &se) {
				return "", errors.New("errors.As lost the wrapped error")
			}
			return fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%v", wrapped, wrapped, wrapped, wrapped, wrapped, wrapped, se), nil
		}},
		{"reflect.Value", func() (string, error) {
			return fmt.Sprintf("%v %+v %#v %x", reflect.ValueOf(s), reflect.ValueOf(holder), reflect.ValueOf(&holder), reflect.ValueOf(s)), nil
		}},
		{"json of an error holding a payload", func() (string, error) {
			b, err := json.Marshal(map[string]any{"error": &sealedErr{"write", s}})
			if err == nil {
				return "", errors.New("json.Marshal of a payload-holding error succeeded: " + string(b))
			}
			return string(b) + err.Error(), nil
		}},
	}
	sc := newScanner()
	sc.add(c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			sc.scan(tt.name, "output", []byte(out))
		})
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(spec.Sealed{}), reflect.TypeOf(spec.Payload{}), reflect.TypeOf(spec.Secret{})} {
		if typ.Comparable() {
			t.Errorf("%v is comparable: == on it would compare payloads outside Sealed.Equal's constant time", typ)
		}
	}
	sc.report(t)
}
