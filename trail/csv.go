package trail

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSV exports: CloudTrail Lake query results and Athena results of the
// CloudTrail table, one event a row under a header row. Columns are
// matched by name, case-insensitively and ignoring '_' and '.', so that
// eventTime, eventtime and event_time are one column and userIdentity.arn
// is useridentityarn. An export has either the whole userIdentity,
// requestParameters and resources, as JSON or as Athena writes its
// structs and arrays ({type=AssumedRole, arn=..., sessioncontext={...}},
// [{arn=..., accountid=..., type=AWS::KMS::Key}]), or flattened columns
// of userIdentity (userIdentity.arn, ...) as a Lake query selects them,
// or both (a flattened column wins). Athena's text of a struct cannot
// tell a ", " or '=' inside a value from its own: such values split.

// csvSetter sets a column's value, never empty, in an Event.
type csvSetter func(e *Event, v string) error

// csvColumns are the columns an export may have, by normalized name.
var csvColumns = map[string]csvSetter{
	"eventtime":          setCSVTime,
	"eventsource":        func(e *Event, v string) error { e.Source = v; return nil },
	"eventname":          func(e *Event, v string) error { e.Name = v; return nil },
	"awsregion":          func(e *Event, v string) error { e.Region = v; return nil },
	"sourceipaddress":    func(e *Event, v string) error { e.SourceIP = v; return nil },
	"useragent":          func(e *Event, v string) error { e.UserAgent = v; return nil },
	"recipientaccountid": func(e *Event, v string) error { e.RecipientAccountID = v; return nil },
	"sharedeventid":      func(e *Event, v string) error { e.SharedEventID = v; return nil },
	"errorcode":          func(e *Event, v string) error { e.ErrorCode = v; return nil },
	"errormessage":       func(e *Event, v string) error { e.ErrorMessage = v; return nil },
	"useridentity":       setCSVIdentity,
	"requestparameters":  setCSVParams,
	"resources":          setCSVResources,
}

func init() {
	for _, f := range []string{"type", "principalid", "arn", "accountid", "accesskeyid", "username", "invokedby"} {
		csvColumns["useridentity"+f] = func(e *Event, v string) error {
			setIdentityField(&e.Identity, f, v)
			return nil
		}
	}
}

// csvRequired are the columns without which no row is an event.
var csvRequired = []string{"eventTime", "eventSource", "eventName"}

// csvName normalizes a column or field name.
func csvName(s string) string {
	return strings.NewReplacer("_", "", ".", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// csvFile reports whether name is named like a CSV export.
func csvFile(name string) bool {
	return strings.HasSuffix(strings.TrimSuffix(strings.ToLower(name), ".gz"), ".csv")
}

// readCSV reads a CSV export row by row.
func readCSV(path string, r io.Reader, s *Summary, fn func(Event) error) error {
	lim := &rowLimit{r: r}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	} else if err != nil {
		s.skip(path, -1, "not a CSV export: "+err.Error())
		return nil
	}
	cols, missing := csvHeader(header)
	fields := len(header) // header's strings stay; its slice is reused
	if len(missing) > 0 {
		s.skip(path, -1, "not a CloudTrail export: no "+strings.Join(missing, ", ")+" column")
		return nil
	}
	for i := 0; ; i++ {
		lim.n = 0
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if _, bad := errors.AsType[*csv.ParseError](err); err != nil && !bad {
			s.skip(path, i, "unreadable, the rest of the file is skipped: "+err.Error())
			return nil
		}
		if err == nil && len(row) != fields {
			err = fmt.Errorf("%d fields, the header has %d", len(row), fields)
		}
		if err != nil {
			s.Records++
			s.skip(path, i, "not a CloudTrail event: "+err.Error())
			continue
		}
		e, err := csvEvent(cols, row)
		if err := deliverEvent(path, i, e, err, s, fn); err != nil {
			return err
		}
	}
}

// rowLimit fails a read once more than maxLine bytes were read since n
// was reset, row by row: a quoted field may span lines, and one left open
// would be read to the end of the file.
type rowLimit struct {
	r io.Reader
	n int
}

var errRowTooLong = fmt.Errorf("a row longer than %d bytes", maxLine)

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.n > maxLine {
		return 0, errRowTooLong
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// csvCol is a column of the header that the reader uses.
type csvCol struct {
	index        int
	name, header string // normalized, and as the header writes it
	set          csvSetter
}

// csvHeader is the columns of header the reader uses, whole userIdentity
// first, so that flattened columns win; and the required ones it lacks.
func csvHeader(header []string) (cols []csvCol, missing []string) {
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if set, ok := csvColumns[csvName(h)]; ok {
			cols = append(cols, csvCol{i, csvName(h), h, set})
		}
	}
	slices.SortStableFunc(cols, func(a, b csvCol) int {
		return compareBool(a.name != "useridentity", b.name != "useridentity")
	})
	for _, r := range csvRequired {
		if !slices.ContainsFunc(cols, func(c csvCol) bool { return c.name == csvName(r) }) {
			missing = append(missing, r)
		}
	}
	return cols, missing
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// csvEvent is the Event of a row; empty cells and null are absent.
func csvEvent(cols []csvCol, row []string) (Event, error) {
	var e Event
	for _, c := range cols {
		v := strings.TrimSpace(row[c.index])
		if v == "" || v == "null" {
			continue
		}
		if err := c.set(&e, v); err != nil {
			return Event{}, fmt.Errorf("%s: %w", c.header, err)
		}
	}
	return e, nil
}

// setCSVTime reads eventTime: RFC 3339, or Lake's 2020-07-27 22:58:24.000
// in UTC.
func setCSVTime(e *Event, v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse(time.DateTime, v); err2 != nil {
			return err
		}
	}
	e.Time = t
	return nil
}

// isJSON reports whether v, an object or an array of objects, is written
// as JSON rather than as Athena writes structs.
func isJSON(v string) bool {
	v = strings.TrimLeft(v, "[ ")
	return strings.HasPrefix(v, "{") && strings.HasPrefix(strings.TrimLeft(v[1:], " "), `"`) ||
		v == "]" || v == "{}"
}

func setCSVIdentity(e *Event, v string) error {
	if isJSON(v) {
		return json.Unmarshal([]byte(v), &e.Identity)
	}
	fields, err := athenaStruct(v)
	for _, f := range fields {
		if s, ok := f.val.(string); ok {
			setIdentityField(&e.Identity, csvName(f.key), s)
		}
	}
	return err
}

// setIdentityField sets the field of id named name (normalized).
func setIdentityField(id *Identity, name, v string) {
	switch name {
	case "type":
		id.Type = v
	case "principalid":
		id.PrincipalID = v
	case "arn":
		id.ARN = v
	case "accountid":
		id.AccountID = v
	case "accesskeyid":
		id.AccessKeyID = v
	case "username":
		id.UserName = v
	case "invokedby":
		id.InvokedBy = v
	}
}

func setCSVParams(e *Event, v string) error {
	if isJSON(v) {
		return json.Unmarshal([]byte(v), &e.Params)
	}
	fields, err := athenaStruct(v)
	if err != nil {
		return err
	}
	p := &Params{}
	for _, f := range fields {
		s, _ := f.val.(string)
		switch csvName(f.key) {
		case "keyid":
			p.KeyID = s
		case "keyspec":
			p.KeySpec = s
		case "keypairspec":
			p.KeyPairSpec = s
		case "numberofbytes":
			if p.NumberOfBytes, err = strconv.Atoi(s); err != nil && f.val != nil {
				return fmt.Errorf("numberOfBytes: %w", err)
			}
		case "encryptioncontext":
			ctx, ok := f.val.([]athenaField)
			if !ok {
				continue
			}
			p.EncryptionContext = make(map[string]string, len(ctx))
			for _, c := range ctx {
				p.EncryptionContext[c.key], _ = c.val.(string)
			}
		case "encryptionalgorithm":
			p.EncryptionAlgorithm = s
		case "signingalgorithm":
			p.SigningAlgorithm = s
		case "macalgorithm":
			p.MacAlgorithm = s
		case "destinationkeyid":
			p.DestinationKeyID = s
		}
	}
	e.Params = p
	return nil
}

func setCSVResources(e *Event, v string) error {
	if isJSON(v) {
		return json.Unmarshal([]byte(v), &e.Resources)
	}
	p := athenaParser{s: v}
	val, err := p.all()
	list, ok := val.([]any)
	if err == nil && !ok {
		err = errors.New("not an array")
	}
	if err != nil {
		return err
	}
	e.Resources = make([]Resource, 0, len(list))
	for _, x := range list {
		var r Resource
		fields, _ := x.([]athenaField)
		for _, f := range fields {
			s, _ := f.val.(string)
			switch csvName(f.key) {
			case "arn":
				r.ARN = s
			case "accountid":
				r.AccountID = s
			case "type":
				r.Type = s
			}
		}
		e.Resources = append(e.Resources, r)
	}
	return nil
}

// athenaField is a field of a struct or map as Athena writes it: its
// value a string, nil (null), a struct ([]athenaField) or an array
// ([]any).
type athenaField struct {
	key string
	val any
}

// athenaStruct parses v, a struct or map as Athena writes it.
func athenaStruct(v string) ([]athenaField, error) {
	p := athenaParser{s: v}
	val, err := p.all()
	fields, ok := val.([]athenaField)
	if err == nil && !ok {
		err = errors.New("not a struct")
	}
	return fields, err
}

// athenaParser parses Athena's text of a value: {key=value, ...},
// [value, ...] or a scalar.
type athenaParser struct {
	s     string
	i     int
	depth int
}

var errAthena = errors.New("neither JSON nor an Athena struct or array")

// all parses s, a struct or an array, to its end.
func (p *athenaParser) all() (any, error) {
	if p.s == "" || p.s[0] != '{' && p.s[0] != '[' {
		return nil, errAthena
	}
	v, err := p.value('}')
	if err == nil && strings.TrimSpace(p.s[p.i:]) != "" {
		err = errAthena
	}
	return v, err
}

// value parses the value at p.i, in a struct when end is '}', in an
// array when ']'.
func (p *athenaParser) value(end byte) (any, error) {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
	if p.i < len(p.s) && (p.s[p.i] == '{' || p.s[p.i] == '[') {
		if p.depth++; p.depth > 32 {
			return nil, errAthena
		}
		defer func() { p.depth-- }()
		if p.s[p.i] == '{' {
			return p.structure()
		}
		return p.array()
	}
	// A scalar ends at the container's end or at ", " before the next
	// element (in a struct, the next key and its '=').
	start := p.i
	for ; p.i < len(p.s) && p.s[p.i] != end; p.i++ {
		if p.s[p.i] == ',' && (end == ']' || athenaKeyAt(p.s[p.i+1:])) {
			break
		}
	}
	if v := strings.TrimSpace(p.s[start:p.i]); v != "null" {
		return v, nil
	}
	return nil, nil
}

// athenaKeyAt reports whether s starts with " key=".
func athenaKeyAt(s string) bool {
	s = strings.TrimLeft(s, " ")
	n := strings.IndexAny(s, "=,{}[] ")
	return n > 0 && s[n] == '='
}

func (p *athenaParser) structure() ([]athenaField, error) {
	p.i++ // '{'
	fields := []athenaField{}
	for {
		if end, err := p.sep('}', len(fields) == 0); end || err != nil {
			return fields, err
		}
		n := strings.IndexAny(p.s[p.i:], "=,{}[]")
		if n <= 0 || p.s[p.i+n] != '=' {
			return nil, errAthena
		}
		key := strings.TrimSpace(p.s[p.i : p.i+n])
		p.i += n + 1
		v, err := p.value('}')
		if err != nil {
			return nil, err
		}
		fields = append(fields, athenaField{key, v})
	}
}

func (p *athenaParser) array() ([]any, error) {
	p.i++ // '['
	list := []any{}
	for {
		if end, err := p.sep(']', len(list) == 0); end || err != nil {
			return list, err
		}
		v, err := p.value(']')
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
}

// sep moves past the ", " before an element (none before the first) and
// reports whether the container ends instead (consumed).
func (p *athenaParser) sep(end byte, first bool) (bool, error) {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
	switch {
	case p.i >= len(p.s):
		return false, errAthena // unterminated
	case p.s[p.i] == end:
		p.i++
		return true, nil
	case first:
		return false, nil
	case p.s[p.i] != ',':
		return false, errAthena
	}
	p.i++
	return false, nil
}
