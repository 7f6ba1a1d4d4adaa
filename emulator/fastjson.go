package emulator

import "encoding/base64"

// The hottest operations (Encrypt, Decrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext) decode their requests with plainScanner
// instead of encoding/json: it accepts only plain, well-formed objects of
// the expected fields (exact names, each at most once; strings of
// printable ASCII without escapes; base64 that decodes; small integers;
// true and false; the EncryptionContext object of strings, without
// repeated keys) and gives up on anything else. decodeBody then decodes
// the body with encoding/json, so that every error and every edge of
// encoding/json (escapes, case-insensitive names, null, repeated fields,
// unknown fields, numbers that are not small integers, ...) stays as it
// was. What the scanner accepts, it decodes exactly as encoding/json would.

// plainScanner reads one JSON text of the plain forms above.
type plainScanner struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *plainScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// token consumes c, after whitespace, and reports whether it was there.
func (s *plainScanner) token(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (s *plainScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str reads a plain string and returns its content, which aliases the
// input.
func (s *plainScanner) str() ([]byte, bool) {
	if !s.token('"') {
		return nil, false
	}
	start := s.i
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// text reads a plain string as a Go string; the usual enum values
// (KeySpec, EncryptionAlgorithm) cost no allocation.
func (s *plainScanner) text(dst *string) bool {
	v, ok := s.str()
	switch string(v) {
	case "AES_256":
		*dst = "AES_256"
	case "AES_128":
		*dst = "AES_128"
	case "SYMMETRIC_DEFAULT":
		*dst = "SYMMETRIC_DEFAULT"
	default:
		*dst = string(v)
	}
	return ok
}

// blob reads a plain string holding base64, decoded as encoding/json
// decodes a []byte (an empty string is an empty, non-nil slice).
func (s *plainScanner) blob(dst *[]byte) bool {
	v, ok := s.str()
	if !ok {
		return false
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, err := base64.StdEncoding.Decode(b, v)
	*dst = b[:n]
	return err == nil
}

// boolean reads true or false.
func (s *plainScanner) boolean(dst *bool) bool {
	s.space()
	rest := s.b[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*dst, s.i = true, s.i+4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*dst, s.i = false, s.i+5
	default:
		return false
	}
	return true
}

// integer reads an integer of at most 9 digits (no fraction, no
// exponent: those are left to encoding/json), into a new int.
func (s *plainScanner) integer(dst **int) bool {
	s.space()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start, n := s.i, 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 10 {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 9 || (digits > 1 && s.b[start] == '0') {
		return false
	}
	if neg {
		n = -n
	}
	*dst = &n
	return true
}

// object reads an object, calling member for each member name with the
// scanner at its value; member reads the value and reports success.
func (s *plainScanner) object(member func(name []byte) bool) bool {
	if !s.token('{') {
		return false
	}
	if s.token('}') {
		return true
	}
	for {
		name, ok := s.str()
		if !ok || !s.token(':') || !member(name) {
			return false
		}
		if !s.token(',') {
			return s.token('}')
		}
	}
}

// context reads an encryption context: an object of strings, no key
// twice.
func (s *plainScanner) context(dst *map[string]string) bool {
	m := map[string]string{}
	ok := s.object(func(name []byte) bool {
		if _, dup := m[string(name)]; dup {
			return false
		}
		v, ok := s.str()
		m[string(name)] = string(v)
		return ok
	})
	*dst = m
	return ok
}

// strings reads an array of strings.
func (s *plainScanner) strings(dst *[]string) bool {
	if !s.token('[') {
		return false
	}
	out := []string{}
	if !s.token(']') {
		for {
			var v string
			if !s.text(&v) {
				return false
			}
			out = append(out, v)
			if !s.token(',') {
				if !s.token(']') {
					return false
				}
				break
			}
		}
	}
	*dst = out
	return true
}

// fields tracks which members an object had, to refuse one given twice.
type fields uint32

// first marks member bit seen and reports whether it was new.
func (f *fields) first(bit fields) bool {
	if *f&bit != 0 {
		return false
	}
	*f |= bit
	return true
}

// fastDecode decodes body into v when v is the request of a hot operation
// and body is plain (see plainScanner); false leaves v as it was.
func fastDecode(body []byte, v any) bool {
	s := plainScanner{b: body}
	switch p := v.(type) {
	case *dataKeyIn:
		var in dataKeyIn
		if s.dataKeyIn(&in) && s.end() {
			*p = in
			return true
		}
	case *encryptIn:
		var in encryptIn
		if s.encryptIn(&in) && s.end() {
			*p = in
			return true
		}
	case *decryptIn:
		var in decryptIn
		if s.decryptIn(&in) && s.end() {
			*p = in
			return true
		}
	}
	return false
}

// Member bits of the fast decoders.
const (
	fKeyID fields = 1 << iota
	fContext
	fBytes
	fSpec
	fGrants
	fDryRun
	fPlaintext
	fAlgorithm
	fBlob
)

// dataKeyIn reads a GenerateDataKey(WithoutPlaintext) request.
func (s *plainScanner) dataKeyIn(in *dataKeyIn) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "KeyId":
			return seen.first(fKeyID) && s.text(&in.KeyId)
		case "EncryptionContext":
			return seen.first(fContext) && s.context(&in.EncryptionContext)
		case "NumberOfBytes":
			return seen.first(fBytes) && s.integer(&in.NumberOfBytes)
		case "KeySpec":
			return seen.first(fSpec) && s.text(&in.KeySpec)
		case "GrantTokens":
			return seen.first(fGrants) && s.strings(&in.GrantTokens)
		case "DryRun":
			return seen.first(fDryRun) && s.boolean(&in.DryRun)
		}
		return false
	})
}

// encryptIn reads an Encrypt request.
func (s *plainScanner) encryptIn(in *encryptIn) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "KeyId":
			return seen.first(fKeyID) && s.text(&in.KeyId)
		case "Plaintext":
			return seen.first(fPlaintext) && s.blob(&in.Plaintext)
		case "EncryptionContext":
			return seen.first(fContext) && s.context(&in.EncryptionContext)
		case "EncryptionAlgorithm":
			return seen.first(fAlgorithm) && s.text(&in.EncryptionAlgorithm)
		case "GrantTokens":
			return seen.first(fGrants) && s.strings(&in.GrantTokens)
		case "DryRun":
			return seen.first(fDryRun) && s.boolean(&in.DryRun)
		}
		return false
	})
}

// decryptIn reads a Decrypt request.
func (s *plainScanner) decryptIn(in *decryptIn) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "CiphertextBlob":
			return seen.first(fBlob) && s.blob(&in.CiphertextBlob)
		case "EncryptionContext":
			return seen.first(fContext) && s.context(&in.EncryptionContext)
		case "KeyId":
			return seen.first(fKeyID) && s.text(&in.KeyId)
		case "EncryptionAlgorithm":
			return seen.first(fAlgorithm) && s.text(&in.EncryptionAlgorithm)
		case "GrantTokens":
			return seen.first(fGrants) && s.strings(&in.GrantTokens)
		case "DryRun":
			return seen.first(fDryRun) && s.boolean(&in.DryRun)
		}
		return false
	})
}

// fastEncode appends v as encoding/json encodes it (without HTML
// escaping) when v is the answer of a hot operation and its strings are
// plain (printable ASCII, nothing to escape); false otherwise.
func fastEncode(dst []byte, v any) ([]byte, bool) {
	switch o := v.(type) {
	case dataKeyOut:
		if !plainText(o.KeyId) {
			return dst, false
		}
		dst = appendBlob(append(dst, `{"CiphertextBlob":`...), o.CiphertextBlob)
		if len(o.Plaintext) > 0 {
			dst = appendBlob(append(dst, `,"Plaintext":`...), o.Plaintext)
		}
		dst = appendText(append(dst, `,"KeyId":`...), o.KeyId)
	case encryptOut:
		if !plainText(o.KeyId) || !plainText(o.EncryptionAlgorithm) {
			return dst, false
		}
		dst = appendBlob(append(dst, `{"CiphertextBlob":`...), o.CiphertextBlob)
		dst = appendText(append(dst, `,"KeyId":`...), o.KeyId)
		dst = appendText(append(dst, `,"EncryptionAlgorithm":`...), o.EncryptionAlgorithm)
	case decryptOut:
		if !plainText(o.KeyId) || !plainText(o.EncryptionAlgorithm) {
			return dst, false
		}
		dst = appendText(append(dst, `{"KeyId":`...), o.KeyId)
		dst = appendBlob(append(dst, `,"Plaintext":`...), o.Plaintext)
		dst = appendText(append(dst, `,"EncryptionAlgorithm":`...), o.EncryptionAlgorithm)
	default:
		return dst, false
	}
	return append(dst, '}'), true
}

// plainText reports whether encoding/json writes s as it is, in quotes.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// appendText appends plain string s in quotes.
func appendText(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendBlob appends b as encoding/json encodes a []byte: base64 in
// quotes, null when nil.
func appendBlob(dst []byte, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}
