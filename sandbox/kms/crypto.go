package kms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// A ciphertext blob is magic, the key ID (36 bytes), a GCM nonce and the
// sealed plaintext; the encryption context, canonically encoded, is the
// additional data, so that it must be given again to decrypt.
var magic = []byte("sbk1")

const (
	idLen    = 36
	nonceLen = 12
)

func (k *key) aead() cipher.AEAD {
	block, err := aes.NewCipher(k.Material)
	if err != nil {
		panic("kms: key material is not an AES-256 key") // Restore and newKey guarantee 32 bytes
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic("kms: " + err.Error())
	}
	return g
}

// aad encodes an encryption context canonically: json.Marshal sorts map keys.
func aad(ec map[string]string) []byte {
	if len(ec) == 0 {
		return nil
	}
	b, _ := json.Marshal(ec) // a map of strings always encodes
	return b
}

func (s *Service) seal(k *key, plaintext []byte, ec map[string]string) ([]byte, *apiError) {
	nonce := make([]byte, nonceLen)
	if _, err := io.ReadFull(s.cfg.Rand, nonce); err != nil {
		return nil, errInternal()
	}
	out := append(append(append([]byte{}, magic...), k.ID...), nonce...)
	return k.aead().Seal(out, nonce, plaintext, aad(ec)), nil
}

// checkContext bounds an encryption context: AWS limits the pairs, as
// encoded, to 8192 characters.
func checkContext(ec map[string]string) *apiError {
	n := 0
	for k, v := range ec {
		n += len(k) + len(v)
	}
	if n > 8192 {
		return clientErr(CodeValidation, "Encryption context exceeds maximum size of 8192 bytes")
	}
	return nil
}

// Encrypt

type encryptInput struct {
	KeyId               *string
	Plaintext           []byte
	EncryptionContext   map[string]string
	EncryptionAlgorithm *string
	GrantTokens         []string
	DryRun              bool
}

type cipherOutput struct {
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	KeyId               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm,omitempty"`
	Plaintext           []byte `json:"Plaintext,omitempty"`
}

// dryRun answers a request with DryRun set once it has passed every check:
// KMS's way of testing permissions without using the key.
func dryRun(set bool) *apiError {
	if set {
		// 412, as the API reference lists it: the one KMS error that is not 400.
		return wire.NewError(http.StatusPreconditionFailed, CodeDryRun, "The request would have succeeded, but the DryRun option is set.")
	}
	return nil
}

func checkAlgorithm(a *string) *apiError {
	if a != nil && *a != "SYMMETRIC_DEFAULT" {
		return clientErr("InvalidKeyUsageException", "The requested algorithm %s is not compatible with this key.", *a)
	}
	return nil
}

func (s *Service) encrypt(in *encryptInput, az AuthorizeFunc) (any, *apiError) {
	switch {
	case len(in.Plaintext) == 0:
		return nil, validation("null", "plaintext", "Member must have length greater than or equal to 1")
	case len(in.Plaintext) > 4096:
		return nil, validation("'java.nio.HeapByteBuffer'", "plaintext", "Member must have length less than or equal to 4096")
	}
	if err := checkContext(in.EncryptionContext); err != nil {
		return nil, err
	}
	k, err := s.resolve(in.KeyId, true)
	if err != nil {
		return nil, err
	}
	if err := firstErr(authorize(az, "Encrypt", k, contextKeys(in.EncryptionContext)), k.usable(), checkAlgorithm(in.EncryptionAlgorithm), dryRun(in.DryRun)); err != nil {
		return nil, err
	}
	blob, err := s.seal(k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return cipherOutput{CiphertextBlob: blob, KeyId: k.ARN, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"}, nil
}

// GenerateDataKey

type generateDataKeyInput struct {
	KeyId             *string
	EncryptionContext map[string]string
	NumberOfBytes     *int
	KeySpec           *string
	GrantTokens       []string
	DryRun            bool
}

func (s *Service) generateDataKey(in *generateDataKeyInput, az AuthorizeFunc) (any, *apiError) {
	n := 0
	switch {
	case (in.NumberOfBytes == nil) == (in.KeySpec == nil):
		return nil, clientErr(CodeValidation, "Please specify either number of bytes or key spec.")
	case in.KeySpec != nil && *in.KeySpec == "AES_256":
		n = 32
	case in.KeySpec != nil && *in.KeySpec == "AES_128":
		n = 16
	case in.KeySpec != nil:
		return nil, validation("'"+*in.KeySpec+"'", "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]")
	case *in.NumberOfBytes < 1:
		return nil, validation("'"+strconv.Itoa(*in.NumberOfBytes)+"'", "numberOfBytes", "Member must have value greater than or equal to 1")
	case *in.NumberOfBytes > 1024:
		return nil, validation("'"+strconv.Itoa(*in.NumberOfBytes)+"'", "numberOfBytes", "Member must have value less than or equal to 1024")
	default:
		n = *in.NumberOfBytes
	}
	if err := checkContext(in.EncryptionContext); err != nil {
		return nil, err
	}
	k, err := s.resolve(in.KeyId, true)
	if err != nil {
		return nil, err
	}
	if err := firstErr(authorize(az, "GenerateDataKey", k, contextKeys(in.EncryptionContext)), k.usable(), dryRun(in.DryRun)); err != nil {
		return nil, err
	}
	plain := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, plain); err != nil {
		return nil, errInternal()
	}
	blob, err := s.seal(k, plain, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return cipherOutput{CiphertextBlob: blob, KeyId: k.ARN, Plaintext: plain}, nil
}

// Decrypt

type decryptInput struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	KeyId               *string
	EncryptionAlgorithm *string
	GrantTokens         []string
	DryRun              bool
}

func (s *Service) decrypt(in *decryptInput, az AuthorizeFunc) (any, *apiError) {
	switch {
	case len(in.CiphertextBlob) == 0:
		return nil, validation("null", "ciphertextBlob", "Member must have length greater than or equal to 1")
	case len(in.CiphertextBlob) > 6144:
		return nil, validation("'java.nio.HeapByteBuffer'", "ciphertextBlob", "Member must have length less than or equal to 6144")
	}
	b := in.CiphertextBlob
	if len(b) < len(magic)+idLen+nonceLen || !bytes.Equal(b[:len(magic)], magic) {
		return nil, clientErr(CodeInvalidCipher, "")
	}
	id := string(b[len(magic) : len(magic)+idLen])
	k := s.keys[id]
	if k == nil {
		return nil, s.notFound(s.arnPrefix() + "key/" + id)
	}
	if in.KeyId != nil {
		named, err := s.resolve(in.KeyId, true)
		if err != nil {
			return nil, err
		}
		if named != k {
			return nil, clientErr(CodeIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	if err := firstErr(authorize(az, "Decrypt", k, contextKeys(in.EncryptionContext)), k.usable(), checkAlgorithm(in.EncryptionAlgorithm), dryRun(in.DryRun)); err != nil {
		return nil, err
	}
	nonce := b[len(magic)+idLen : len(magic)+idLen+nonceLen]
	plain, err := k.aead().Open(nil, nonce, b[len(magic)+idLen+nonceLen:], aad(in.EncryptionContext))
	if err != nil {
		return nil, clientErr(CodeInvalidCipher, "")
	}
	return cipherOutput{KeyId: k.ARN, Plaintext: plain, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"}, nil
}
