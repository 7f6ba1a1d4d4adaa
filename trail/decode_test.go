package trail

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// Records of the Developer Guide's shapes (as in read_test.go) and the
// corners of JSON that the decoder must leave to encoding/json or decode
// as it does.
var decodeSeeds = []string{
	`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"EX_PRINCIPAL_ID","arn":"arn:aws:iam::111122223333:user/Alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.0","userAgent":"aws-cli/2","requestParameters":{"encryptionContext":{"Department":"10103.0"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"requestID":"12345126-30d5-4b28-98b9-9153da559963","eventID":"abcde202-ba1a-467c-b4ba-f729d45ae521","readOnly":true,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
	`{"userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:app","arn":"arn:aws:sts::111122223333:assumed-role/app/i-0123","accountId":"111122223333","invokedBy":"s3.amazonaws.com"},"eventTime":"2020-07-27T22:58:25Z","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","requestParameters":{"keyId":"arn:aws:kms:us-west-2:111122223333:key/1234abcd","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket/key"}},"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-west-2:111122223333:key/1234abcd"}],"recipientAccountId":"111122223333","sharedEventID":"8f9e2a51-1c3f-4a5e-9a8b-0123456789ab"}`,
	`{"userIdentity":{"type":"IAMUser","accountId":"111122223333"},"eventTime":"2020-07-27T22:58:27Z","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","errorCode":"ThrottlingException","errorMessage":"Rate exceeded","requestParameters":{"keyId":"alias/app","numberOfBytes":32},"recipientAccountId":"111122223333"}`,
	`{"eventTime":"2020-07-27T22:58:28Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","requestParameters":{"bucketName":"b","x":[1,-2.5e+3,true,false,null,{"a":[]}]}}`,
	`{"eventTime":12,"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`,
	`{"EVENTTIME":"2020-07-27T22:58:24+02:00","eventsource":"kms.amazonaws.com","EventName":"Sign","requestParameters":{"SigningAlgorithm":"ECDSA_SHA_256","keyid":"k"}}`,
	`{"eventTime":"2020-07-27T22:58:24.123Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","eventName":"Encrypt"}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"D\u00e9crypt","userAgent":"a\"b\\c\/d\n\t\ud83d\ude00","sourceIPAddress":"\ud800"}`,
	"{\"eventTime\":\"2020-07-27T22:58:24Z\",\"eventSource\":\"kms.amazonaws.com\",\"eventName\":\"Décrypt\",\"userAgent\":\"\xff\xfe\"}",
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","event\u004eame":"y","eventſource":"z"}`,
	`{"eventTime":null,"eventSource":null,"eventName":"x","userIdentity":null,"requestParameters":null,"resources":null}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","requestParameters":{},"resources":[]}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","requestParameters":{"encryptionContext":{},"numberOfBytes":-0},"resources":[null,{}]}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","requestParameters":{"encryptionContext":{"a":"1","a":"2","b":null,"\u00e9":"\u00e9"},"numberOfBytes":1e3}}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","requestParameters":{"numberOfBytes":"32"}}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","requestParameters":{"numberOfBytes":99999999999999999999}}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","resources":{"ARN":"a"}}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","userIdentity":"root"}`,
	`{"eventTime":"2020-07-27 22:58:24","eventSource":"kms.amazonaws.com","eventName":"x"}`,
	` { "eventTime" : "2020-07-27T22:58:24Z" , "eventSource" : "kms.amazonaws.com" , "eventName" : "x" , "a" : [ 1 , 2 ] } `,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x",}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":01}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":[1,]}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":"\x01"}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":tru}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":"\x"}`,
	`{"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"x","a":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`,
}

// FuzzDecode: what the decoder decodes, encoding/json decodes alike and
// without an error; what it calls short has no complete valid record.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	d := newDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '{' {
			return
		}
		outcome, n := d.p.parse(b)
		switch outcome {
		case parsed:
			var want Event
			if !json.Valid(b[:n]) {
				t.Fatalf("decoded %q, which is not valid JSON", b[:n])
			}
			if err := json.Unmarshal(b[:n], &want); err != nil {
				t.Fatalf("decoded %q, which encoding/json refuses: %v", b[:n], err)
			}
			if got := d.event(); !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %q as\n%+v\nencoding/json:\n%+v", b[:n], got, want)
			}
		case short:
			if n := valueEnd(b); n >= 0 && json.Valid(b[:n]) {
				t.Fatalf("short of %q, a valid record", b[:n])
			}
		}
	})
}

// readAll is a read of b with d (nil: encoding/json alone), its events and
// its Summary; oneByte feeds the reader a byte at a time.
func readAll(b []byte, d *decoder, oneByte bool) ([]Event, Summary, error) {
	var es []Event
	var r io.Reader = bytes.NewReader(b)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	s, err := readStreamWith("f.json", r, func(e Event) error { es = append(es, e); return nil }, d)
	return es, s, err
}

// FuzzReadSame: a stream reads the same with the decoder as with
// encoding/json alone: the same events, counts and reasons, fed at once
// or a byte at a time.
func FuzzReadSame(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(`{"Records":[` + s + `,` + s + `]}`))
		f.Add([]byte(s + "\n" + s + "\n"))
	}
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + `,{"eventTime":`))
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + ` ` + decodeSeeds[0] + `]}`))
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + `,]}`))
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + `,null,"x",12]}`))
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + `}`))
	f.Add([]byte(`{"Records":[` + decodeSeeds[0] + `,` + decodeSeeds[2] + `]} trailing`))
	f.Add([]byte(`{"Records" : [ ` + decodeSeeds[2] + ` , ` + decodeSeeds[4] + ` ] }`))
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(`{"Records":[` + decodeSeeds[0] + `,` + decodeSeeds[3] + `]}`))
	w.Close()
	f.Add(gz.Bytes())
	d := newDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		wantE, wantS, wantErr := readAll(b, nil, false)
		for _, oneByte := range []bool{false, true} {
			gotE, gotS, gotErr := readAll(b, d, oneByte)
			if !reflect.DeepEqual(gotS, wantS) || !reflect.DeepEqual(gotE, wantE) || gotErr != wantErr {
				t.Fatalf("%q (a byte at a time: %v):\ndecoder: %+v\n%+v, %v\nencoding/json: %+v\n%+v, %v", b, oneByte, gotS, gotE, gotErr, wantS, wantE, wantErr)
			}
		}
	})
}

// TestFieldTables: the decoder's tables name every field of Event,
// Identity, Params and Resource by its JSON name, in letters only.
func TestFieldTables(t *testing.T) {
	for _, c := range []struct {
		typ reflect.Type
		tbl []field
	}{
		{reflect.TypeFor[Event](), eventFields[:]},
		{reflect.TypeFor[Identity](), identityFields[:]},
		{reflect.TypeFor[Params](), paramsFields[:]},
		{reflect.TypeFor[Resource](), resourceFields[:]},
	} {
		var tags, names []string
		for f := range c.typ.Fields() {
			tags = append(tags, f.Tag.Get("json"))
		}
		for _, f := range c.tbl {
			names = append(names, f.name)
			if strings.Trim(strings.ToLower(f.name), "abcdefghijklmnopqrstuvwxyz") != "" {
				t.Errorf("%s: %q is not letters only", c.typ, f.name)
			}
		}
		if !reflect.DeepEqual(tags, names) {
			t.Errorf("%s: fields %v; the decoder has %v", c.typ, tags, names)
		}
	}
}

// TestReadErrorMidRecord: an input that fails inside a record, and goes
// on failing (as corrupt gzip does), loses that record and the rest of
// the file, with or without the decoder (encoding/json's Decoder alone
// would return the error for ever).
func TestReadErrorMidRecord(t *testing.T) {
	fire := errors.New("disk on fire")
	for _, d := range []*decoder{newDecoder(), nil} {
		r := io.MultiReader(strings.NewReader(`{"Records":[`+decodeSeeds[0]+`,{"eventTime":"2020`), errReader{fire})
		var n int
		s, err := readStreamWith("f.json", r, func(Event) error { n++; return nil }, d)
		if err != nil || n != 1 || s.Records != 2 || len(s.Skipped) != 1 || s.Skipped[0].String() != "f.json: record 1: unreadable, the rest of the file is skipped: disk on fire" {
			t.Errorf("decoder %v: ReadStream = %+v, %v after %d events", d != nil, s, err, n)
		}
	}
}
