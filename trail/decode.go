package trail

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// This file decodes one record into an Event without encoding/json's
// reflection: a single pass over the record's bytes that validates its
// syntax, keeps the fields an Event has as views into the input and skips
// the rest. It decodes a record only where encoding/json would decode it
// to the same Event without an error; everything else (a value of another
// type, a key written with escapes, the same field twice, a syntax error)
// it leaves to encoding/json (outcome bail), so that what a record yields
// and why a record is skipped stay encoding/json's. decode_test.go holds it
// to that.

// Outcomes of a parse.
const (
	parsed = iota // the record was decoded
	short         // the input ended inside the record
	bail          // encoding/json decides: not decoded here
)

// maxDepth bounds the nesting this decoder skips; deeper records are
// encoding/json's.
const maxDepth = 200

// Kinds of field.
const (
	kString = iota
	kTime
	kInt
	kIdentity
	kParams
	kContext
	kResources
)

// Slots of rawEvent.str, one for each string field of an Event, its
// Identity and its Params.
const (
	sSource = iota
	sName
	sRegion
	sSourceIP
	sUserAgent
	sRecipient
	sSharedEventID
	sErrorCode
	sErrorMessage
	sIDType
	sIDPrincipal
	sIDARN
	sIDAccount
	sIDAccessKey
	sIDUserName
	sIDInvokedBy
	sKeyID
	sKeySpec
	sKeyPairSpec
	sEncAlg
	sSignAlg
	sMacAlg
	sDestKeyID
	nSlots
)

// field is a JSON name of a struct field and where its value goes. Names
// are letters only (TestFieldTables), so that matching them as
// encoding/json does, case-insensitively, is an ASCII comparison.
type field struct {
	name       string
	kind, slot uint8
}

// The fields of Event, Identity, Params and Resource, by their JSON names.
var (
	eventFields = [...]field{
		{"eventTime", kTime, 0}, {"eventSource", kString, sSource}, {"eventName", kString, sName},
		{"awsRegion", kString, sRegion}, {"sourceIPAddress", kString, sSourceIP}, {"userAgent", kString, sUserAgent},
		{"userIdentity", kIdentity, 0}, {"requestParameters", kParams, 0}, {"resources", kResources, 0},
		{"recipientAccountId", kString, sRecipient}, {"sharedEventID", kString, sSharedEventID},
		{"errorCode", kString, sErrorCode}, {"errorMessage", kString, sErrorMessage},
	}
	identityFields = [...]field{
		{"type", kString, sIDType}, {"principalId", kString, sIDPrincipal}, {"arn", kString, sIDARN},
		{"accountId", kString, sIDAccount}, {"accessKeyId", kString, sIDAccessKey}, {"userName", kString, sIDUserName},
		{"invokedBy", kString, sIDInvokedBy},
	}
	paramsFields = [...]field{
		{"keyId", kString, sKeyID}, {"keySpec", kString, sKeySpec}, {"keyPairSpec", kString, sKeyPairSpec},
		{"numberOfBytes", kInt, 0}, {"encryptionContext", kContext, 0}, {"encryptionAlgorithm", kString, sEncAlg},
		{"signingAlgorithm", kString, sSignAlg}, {"macAlgorithm", kString, sMacAlg}, {"destinationKeyId", kString, sDestKeyID},
	}
	resourceFields = [...]field{{"accountId", kString, 0}, {"type", kString, 1}, {"ARN", kString, 2}}
)

// rawEvent is a decoded record whose strings are views into the input
// (or, for strings with escapes, copies): valid until the input changes.
type rawEvent struct {
	str           [nSlots][]byte
	time          time.Time
	numberOfBytes int
	// params, ctx, resources: requestParameters, its encryptionContext
	// and resources were present and not null.
	params, ctx, resources bool
	ctxKV                  [][]byte // key, value, key, value, ... in order
	res                    [][3][]byte
}

// parser decodes one record from b at i.
type parser struct {
	b       []byte
	i       int
	outcome int
	depth   int
	// escaped and ascii describe the last string scanned: it had escapes;
	// it was ASCII.
	escaped, ascii bool
	ev             rawEvent
}

// parse decodes the record at the start of b, which must begin with '{',
// and returns the outcome and, when parsed, the record's length.
func (p *parser) parse(b []byte) (outcome, n int) {
	p.b, p.i, p.outcome, p.depth = b, 0, parsed, 0
	ctxKV, res := p.ev.ctxKV[:0], p.ev.res[:0]
	p.ev = rawEvent{ctxKV: ctxKV, res: res}
	p.object(eventFields[:], p.ev.str[:])
	return p.outcome, p.i
}

func (p *parser) fail(outcome int) {
	if p.outcome == parsed {
		p.outcome = outcome
	}
}

// ws skips whitespace and reports whether a byte follows; the input
// ending is short.
func (p *parser) ws() bool {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return true
		}
	}
	p.fail(short)
	return false
}

// object decodes the object at p.i into the fields of tbl, their strings
// into strs. A field twice is encoding/json's (it would merge the two).
func (p *parser) object(tbl []field, strs [][]byte) {
	p.i++ // '{'
	var seen uint32
	for first := true; ; first = false {
		key, more := p.key(first, true)
		if !more {
			return
		}
		k := lookup(tbl, key)
		switch {
		case k < 0:
			p.skip()
		case seen&(1<<k) != 0:
			p.fail(bail)
		default:
			seen |= 1 << k
			p.value(tbl[k], strs)
		}
		if p.outcome != parsed {
			return
		}
	}
}

// key reads the next key of an object and its colon, leaving p.i at the
// value; more is false at the object's end (consumed) or on failure. In a
// struct (plain), a key with escapes or other than ASCII is
// encoding/json's, which unescapes keys and folds Unicode case.
func (p *parser) key(first, plain bool) (key []byte, more bool) {
	if !p.ws() {
		return nil, false
	}
	c := p.b[p.i]
	if c == '}' {
		p.i++
		return nil, false
	}
	if !first {
		if c != ',' {
			p.fail(bail)
			return nil, false
		}
		p.i++
		if !p.ws() {
			return nil, false
		}
	}
	if p.b[p.i] != '"' {
		p.fail(bail)
		return nil, false
	}
	key = p.scanString()
	if plain && (p.escaped || !p.ascii) {
		p.fail(bail)
	}
	if p.outcome != parsed || !p.ws() {
		return nil, false
	}
	if p.b[p.i] != ':' {
		p.fail(bail)
		return nil, false
	}
	p.i++
	return key, p.ws()
}

// lookup is the index in tbl of the field named key, case-insensitively,
// -1 for none.
func lookup(tbl []field, key []byte) int {
	for k := range tbl {
		name := tbl[k].name
		if len(name) != len(key) {
			continue
		}
		i := 0
		for i < len(key) && name[i]|0x20 == key[i]|0x20 {
			i++
		}
		if i == len(key) {
			return k
		}
	}
	return -1
}

// value decodes the value at p.i into f. null leaves a field as it is, as
// encoding/json does; a value of another type is encoding/json's.
func (p *parser) value(f field, strs [][]byte) {
	c := p.b[p.i]
	if c == 'n' {
		p.literal("null")
		return
	}
	switch {
	case f.kind == kString && c == '"':
		strs[f.slot] = p.str()
	case f.kind == kTime && c == '"':
		p.time()
	case f.kind == kInt:
		p.int()
	case f.kind == kIdentity && c == '{':
		p.object(identityFields[:], p.ev.str[:])
	case f.kind == kParams && c == '{':
		p.ev.params = true
		p.object(paramsFields[:], p.ev.str[:])
	case f.kind == kContext && c == '{':
		p.ev.ctx = true
		p.context()
	case f.kind == kResources && c == '[':
		p.ev.resources = true
		p.resources()
	default:
		p.fail(bail)
	}
}

// time decodes eventTime as encoding/json does, with time.Time's
// UnmarshalJSON of the string as written.
func (p *parser) time() {
	start := p.i
	if p.scanString(); p.outcome != parsed {
		return
	}
	if err := p.ev.time.UnmarshalJSON(p.b[start:p.i]); err != nil {
		p.fail(bail)
	}
}

// int decodes numberOfBytes: an integer of at most 18 digits (anything
// else encoding/json either refuses or decodes with an error).
func (p *parser) int() {
	j, neg := p.i, p.b[p.i] == '-'
	if neg {
		j++
	}
	start, n := j, 0
	for ; j < len(p.b) && '0' <= p.b[j] && p.b[j] <= '9'; j++ {
		n = n*10 + int(p.b[j]-'0')
	}
	switch {
	case j == len(p.b):
		p.fail(short)
	case j == start || j-start > 18 || p.b[start] == '0' && j-start > 1:
		p.fail(bail)
	case p.b[j] == '.' || p.b[j] == 'e' || p.b[j] == 'E':
		p.fail(bail)
	default:
		if neg {
			n = -n
		}
		p.ev.numberOfBytes, p.i = n, j
	}
}

// context decodes encryptionContext, an object of strings; a key or
// value with escapes is unescaped, a null value is "" as encoding/json
// stores it in a map.
func (p *parser) context() {
	p.i++ // '{'
	for first := true; ; first = false {
		key, more := p.key(first, false)
		if !more {
			return
		}
		key = p.decoded(key)
		var v []byte
		switch p.b[p.i] {
		case '"':
			v = p.str()
		case 'n':
			p.literal("null")
		default:
			p.fail(bail)
		}
		if p.outcome != parsed {
			return
		}
		p.ev.ctxKV = append(p.ev.ctxKV, key, v)
	}
}

// resources decodes the resources array; a null element is a zero
// Resource.
func (p *parser) resources() {
	p.i++ // '['
	for first := true; ; first = false {
		if !p.element(first) {
			return
		}
		p.ev.res = append(p.ev.res, [3][]byte{})
		switch p.b[p.i] {
		case '{':
			p.object(resourceFields[:], p.ev.res[len(p.ev.res)-1][:])
		case 'n':
			p.literal("null")
		default:
			p.fail(bail)
		}
		if p.outcome != parsed {
			return
		}
	}
}

// element moves to the next element of an array, past its comma; false at
// the array's end (consumed) or on failure.
func (p *parser) element(first bool) bool {
	if !p.ws() {
		return false
	}
	if c := p.b[p.i]; c == ']' {
		p.i++
		return false
	} else if !first {
		if c != ',' {
			p.fail(bail)
			return false
		}
		p.i++
		if !p.ws() {
			return false
		}
	}
	if p.b[p.i] == ']' {
		p.fail(bail) // after a comma
		return false
	}
	return true
}

// strSpecial marks the bytes that stop the scan of a string: the quote,
// the backslash, control characters and bytes other than ASCII.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// scanString validates the string at p.i, moves past it and returns its
// bytes as written, between the quotes; p.escaped and p.ascii say what it
// holds.
func (p *parser) scanString() []byte {
	b, start := p.b, p.i+1
	p.escaped, p.ascii = false, true
	for j := start; ; {
		for j < len(b) && !strSpecial[b[j]] {
			j++
		}
		if j >= len(b) {
			p.fail(short)
			return nil
		}
		switch c := b[j]; {
		case c == '"':
			p.i = j + 1
			return b[start:j]
		case c < 0x20:
			p.fail(bail)
			return nil
		case c == '\\':
			p.escaped = true
			if j = p.escape(j); j < 0 {
				return nil
			}
		default:
			p.ascii = false
			j++
		}
	}
}

// escape validates the escape at b[j] and returns the index after it, -1
// on failure.
func (p *parser) escape(j int) int {
	b := p.b
	if j+1 >= len(b) {
		p.fail(short)
		return -1
	}
	switch b[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return j + 2
	case 'u':
		if j+6 > len(b) {
			p.fail(short)
			return -1
		}
		for _, h := range b[j+2 : j+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				p.fail(bail)
				return -1
			}
		}
		return j + 6
	}
	p.fail(bail)
	return -1
}

// str reads the string at p.i and returns its value.
func (p *parser) str() []byte {
	s := p.scanString()
	if p.outcome != parsed {
		return nil
	}
	return p.decoded(s)
}

// decoded is the value of the string s just scanned (a slice of p.b,
// between its quotes): s itself when it has no escapes and is valid
// UTF-8, else a copy unquoted by encoding/json (which also replaces
// invalid UTF-8).
func (p *parser) decoded(s []byte) []byte {
	if !p.escaped && (p.ascii || utf8.Valid(s)) {
		return s
	}
	start := cap(p.b) - cap(s)
	var v string
	if err := json.Unmarshal(p.b[start-1:start+len(s)+1], &v); err != nil {
		p.fail(bail)
		return nil
	}
	return []byte(v)
}

// literal reads the literal w (true, false or null) at p.i.
func (p *parser) literal(w string) {
	n := min(len(w), len(p.b)-p.i)
	switch {
	case string(p.b[p.i:p.i+n]) != w[:n]:
		p.fail(bail)
	case n < len(w):
		p.fail(short)
	default:
		p.i += n
	}
}

// skip validates and skips the value at p.i.
func (p *parser) skip() {
	switch c := p.b[p.i]; {
	case c == '"':
		p.scanString()
	case c == '{', c == '[':
		if p.depth++; p.depth > maxDepth {
			p.fail(bail)
			return
		}
		if c == '{' {
			p.skipObject()
		} else {
			p.skipArray()
		}
		p.depth--
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		p.number()
	default:
		p.fail(bail)
	}
}

func (p *parser) skipObject() {
	p.i++ // '{'
	for first := true; ; first = false {
		if _, more := p.key(first, false); !more {
			return
		}
		if p.skip(); p.outcome != parsed {
			return
		}
	}
}

func (p *parser) skipArray() {
	p.i++ // '['
	for first := true; p.element(first); first = false {
		if p.skip(); p.outcome != parsed {
			return
		}
	}
}

// number validates and skips the number at p.i. A number that runs to the
// end of the input is short: it may go on.
func (p *parser) number() {
	b, j := p.b, p.i
	if b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		j = digits(b, j)
	case j < len(b):
		p.fail(bail)
		return
	}
	if j < len(b) && b[j] == '.' {
		if j = digits(b, j+1); j < len(b) && b[j-1] == '.' {
			p.fail(bail)
			return
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := digits(b, j)
		if k == j && k < len(b) {
			p.fail(bail)
			return
		}
		j = k
	}
	if j >= len(b) {
		p.fail(short)
		return
	}
	p.i = j
}

// digits is the index after the decimal digits of b from j.
func digits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

// Interning: the strings of Events repeat (accounts, ARNs, names,
// regions, agents), so a decoder keeps one copy of each, up to
// maxInterned of at most maxInternLen bytes, and starts over when full.
const (
	maxInterned  = 4096
	maxInternLen = 128
)

// maxKeptBuffer bounds the read buffer a decoder keeps from one file to
// the next (it grows to the largest record).
const maxKeptBuffer = 1 << 20

// decoder decodes records into Events, sharing their strings, and keeps
// the read buffer of delivery files from one to the next.
type decoder struct {
	p       parser
	strings map[string]string
	buf     []byte
}

func newDecoder() *decoder {
	return &decoder{strings: make(map[string]string), buf: make([]byte, 0, 128<<10)}
}

// intern is b as a string, shared with earlier equal ones.
func (d *decoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := d.strings[string(b)]; ok {
		return s
	}
	if len(d.strings) >= maxInterned {
		clear(d.strings)
	}
	s := string(b)
	d.strings[s] = s
	return s
}

// event is the Event of the record just parsed, in memory of its own.
func (d *decoder) event() Event {
	r, s := &d.p.ev, d.p.ev.str[:]
	e := Event{
		Time: r.time, Source: d.intern(s[sSource]), Name: d.intern(s[sName]), Region: d.intern(s[sRegion]),
		SourceIP: d.intern(s[sSourceIP]), UserAgent: d.intern(s[sUserAgent]),
		Identity: Identity{
			Type: d.intern(s[sIDType]), PrincipalID: d.intern(s[sIDPrincipal]), ARN: d.intern(s[sIDARN]),
			AccountID: d.intern(s[sIDAccount]), AccessKeyID: d.intern(s[sIDAccessKey]),
			UserName: d.intern(s[sIDUserName]), InvokedBy: d.intern(s[sIDInvokedBy]),
		},
		RecipientAccountID: d.intern(s[sRecipient]), SharedEventID: string(s[sSharedEventID]), // unique: not interned
		ErrorCode: d.intern(s[sErrorCode]), ErrorMessage: d.intern(s[sErrorMessage]),
	}
	if r.params {
		e.Params = &Params{
			KeyID: d.intern(s[sKeyID]), KeySpec: d.intern(s[sKeySpec]), KeyPairSpec: d.intern(s[sKeyPairSpec]),
			NumberOfBytes: r.numberOfBytes, EncryptionAlgorithm: d.intern(s[sEncAlg]),
			SigningAlgorithm: d.intern(s[sSignAlg]), MacAlgorithm: d.intern(s[sMacAlg]),
			DestinationKeyID: d.intern(s[sDestKeyID]),
		}
		if r.ctx {
			e.Params.EncryptionContext = make(map[string]string, len(r.ctxKV)/2)
			for i := 0; i < len(r.ctxKV); i += 2 {
				e.Params.EncryptionContext[d.intern(r.ctxKV[i])] = string(r.ctxKV[i+1])
			}
		}
	}
	if r.resources {
		e.Resources = make([]Resource, len(r.res))
		for i, x := range r.res {
			e.Resources[i] = Resource{AccountID: d.intern(x[0]), Type: d.intern(x[1]), ARN: d.intern(x[2])}
		}
	}
	return e
}
