package spec

// Payload is the declared content of a secret. Its bytes are sealed in Sealed
// values, which refuse to be printed or serialised; only field names, the
// kind and the generator specs are safe to show.
type Payload struct {
	Kind PayloadKind

	// Declared holds what the spec declares, canonically encoded:
	//   KindString: the string itself;
	//   KindObject: the declared fields as canonical JSON (sorted keys, no
	//               spaces), without the generated fields;
	//   KindBinary: the raw bytes.
	// It is empty for a payload that is wholly generated.
	Declared Sealed

	// Fields lists the field names of an object payload, declared and
	// generated, sorted. Field names are not sensitive.
	Fields []string

	// FieldsHidden is set when the declared field names themselves come
	// from a sensitive source (for example jsondecode(file("creds.json")));
	// Fields then lists only the generated fields.
	FieldsHidden bool

	// Generators lists the generate blocks, sorted by Field. A single
	// unlabelled generator makes the whole payload a generated string.
	Generators []Generator
}

// PayloadKind says how a payload is stored in Secrets Manager.
type PayloadKind int

const (
	KindString PayloadKind = iota // SecretString holding a plain string
	KindObject                    // SecretString holding a JSON object
	KindBinary                    // SecretBinary
)

func (k PayloadKind) String() string {
	switch k {
	case KindObject:
		return "object"
	case KindBinary:
		return "binary"
	default:
		return "string"
	}
}
