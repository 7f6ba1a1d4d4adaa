package trail_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/trail"
)

const keyARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// athenaHeader is the header of Athena's CloudTrail table, as a query of
// its columns exports it.
var athenaHeader = []string{"eventversion", "useridentity", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress", "useragent", "errorcode", "errormessage", "requestparameters", "responseelements", "requestid", "eventid", "resources", "eventtype", "readonly", "recipientaccountid", "sharedeventid"}

// athenaRows are read_test.go's events as Athena writes them: structs and
// arrays in its own notation or as JSON, requestparameters as JSON (and,
// once, as Athena would write a map).
var athenaRows = [][]string{
	{"1.08", "{type=IAMUser, principalid=EX_PRINCIPAL_ID, arn=arn:aws:iam::111122223333:user/Alice, accountid=111122223333, invokedby=null, accesskeyid=AKIAIOSFODNN7EXAMPLE, username=Alice, sessioncontext=null}",
		"2020-07-27T22:58:24Z", "kms.amazonaws.com", "Decrypt", "us-west-2", "192.0.2.0", "aws-cli/2", "", "",
		`{"encryptionContext":{"Department":"10103.0"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, "", "12345126-30d5-4b28-98b9-9153da559963", "abcde202-ba1a-467c-b4ba-f729d45ae521",
		"[{arn=" + keyARN + ", accountid=111122223333, type=AWS::KMS::Key}]", "AwsApiCall", "true", "111122223333", ""},
	{"1.08", "{type=AssumedRole, principalid=AROAEXAMPLE:app, arn=arn:aws:sts::111122223333:assumed-role/app/i-0123, accountid=111122223333, invokedby=s3.amazonaws.com, accesskeyid=null, username=null, sessioncontext={attributes={mfaauthenticated=false, creationdate=2020-07-27T22:00:00Z}, sessionissuer={type=Role, principalid=AROAEXAMPLE, arn=arn:aws:iam::111122223333:role/app, accountid=111122223333, username=app}}}",
		"2020-07-27T22:58:25Z", "kms.amazonaws.com", "GenerateDataKey", "us-west-2", "s3.amazonaws.com", "s3.amazonaws.com", "", "",
		`{"keyId":"` + keyARN + `","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket/key"}}`, "", "", "",
		`[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"` + keyARN + `"}]`, "AwsApiCall", "true", "111122223333", ""},
	{"", `{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/payments/x","accountId":"444455556666"}`,
		"2020-07-27T22:58:26Z", "kms.amazonaws.com", "Encrypt", "us-west-2", "", "", "", "",
		"{keyid=" + keyARN + "}", "", "", "",
		"[{arn=" + keyARN + ", accountid=111122223333, type=AWS::KMS::Key}]", "", "", "444455556666", "8f9e2a51-1c3f-4a5e-9a8b-0123456789ab"},
	{"", "{type=IAMUser, arn=arn:aws:iam::111122223333:user/batch, accountid=111122223333}",
		"2020-07-27T22:58:27Z", "kms.amazonaws.com", "GenerateDataKey", "us-west-2", "", "", "ThrottlingException", "Rate exceeded",
		`{"keyId":"alias/app","numberOfBytes":32}`, "", "", "", "", "", "", "111122223333", ""},
	{"", "{type=IAMUser, accountid=111122223333}", "2020-07-27T22:58:28Z", "s3.amazonaws.com", "PutObject", "us-west-2", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	{"", "{type=IAMUser, accountid=111122223333}", "yesterday", "kms.amazonaws.com", "Decrypt", "us-west-2", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	{"", "{type=IAMUser, accountid=111122223333", "2020-07-27T22:58:29Z", "kms.amazonaws.com", "Decrypt", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	{"1.08", "too few fields"},
}

func csvText(t *testing.T, header []string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range rows {
		w.Write(r)
	}
	if w.Flush(); w.Error() != nil {
		t.Fatal(w.Error())
	}
	return b.String()
}

// TestReadCSVAthena: an Athena export, gzipped, with userIdentity and
// resources in Athena's notation or as JSON: the events are the same
// Events as the JSON records they come from, bad rows are named by file
// and row.
func TestReadCSVAthena(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "athena.csv.gz"), csvText(t, athenaHeader, athenaRows), true)
	var got []trail.Event
	s, err := trail.Read([]string{dir}, func(e trail.Event) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 1 || s.Records != 8 || s.KMS != 4 || s.Other != 1 || s.SkippedCount != 3 {
		t.Errorf("summary %+v; want 1 file, 8 records, 4 KMS events, 1 other, 3 skipped", s)
	}
	for i, want := range []string{"athena.csv.gz: record 5: not a CloudTrail event: eventtime: ", "athena.csv.gz: record 6: not a CloudTrail event: useridentity: ", "athena.csv.gz: record 7: not a CloudTrail event: 2 fields, the header has 19"} {
		if i >= len(s.Skipped) || !strings.Contains(s.Skipped[i].String(), want) {
			t.Errorf("skipped %v; want %q at %d", s.Skipped, want, i)
		}
	}
	if len(got) != 4 {
		t.Fatalf("%d events; want 4", len(got))
	}
	var dec trail.Event
	json.Unmarshal([]byte(decryptEvent), &dec)
	if !reflect.DeepEqual(got[0], dec) {
		t.Errorf("Decrypt from CSV\n%+v\nfrom JSON\n%+v", got[0], dec)
	}
	s3, cross, thr := got[1], got[2], got[3]
	if s3.Identity.InvokedBy != "s3.amazonaws.com" || s3.Identity.PrincipalID != "AROAEXAMPLE:app" || s3.Params.KeySpec != "AES_256" || s3.KeyARN() != keyARN {
		t.Errorf("S3's GenerateDataKey: %+v", s3)
	}
	if !cross.CrossAccount() || cross.CallerAccount() != "444455556666" || cross.Params.KeyID != keyARN || cross.SharedEventID != "8f9e2a51-1c3f-4a5e-9a8b-0123456789ab" {
		t.Errorf("cross-account Encrypt: %+v", cross)
	}
	if !thr.Throttled() || thr.Params.NumberOfBytes != 32 || thr.KeyARN() != "" || thr.ErrorMessage != "Rate exceeded" {
		t.Errorf("throttled GenerateDataKey: %+v", thr)
	}
}

// lakeCSV is a CloudTrail Lake query's result: flattened userIdentity
// columns, Lake's eventTime, requestParameters and resources as JSON.
const lakeCSV = `eventTime,eventSource,eventName,awsRegion,sourceIPAddress,userIdentity.arn,userIdentity.accountId,userIdentity.type,userIdentity.invokedBy,errorCode,recipientAccountId,requestParameters,resources
2020-07-27 22:58:24.000,kms.amazonaws.com,Decrypt,us-west-2,192.0.2.0,arn:aws:iam::111122223333:user/Alice,111122223333,IAMUser,,,111122223333,"{""encryptionContext"":{""Department"":""10103.0""},""encryptionAlgorithm"":""SYMMETRIC_DEFAULT""}","[{""accountId"":""111122223333"",""type"":""AWS::KMS::Key"",""arn"":""` + keyARN + `""}]"
2020-07-27 22:58:25.000,kms.amazonaws.com,GenerateDataKey,us-west-2,s3.amazonaws.com,arn:aws:sts::111122223333:assumed-role/app/i-0123,111122223333,AssumedRole,s3.amazonaws.com,,111122223333,"{""keyId"":""` + keyARN + `"",""keySpec"":""AES_256""}",
2020-07-27 22:58:26.000,kms.amazonaws.com,Encrypt,us-west-2,,arn:aws:sts::444455556666:assumed-role/payments/x,444455556666,AssumedRole,,,444455556666,"{""keyId"":""` + keyARN + `""}","[{""accountId"":""111122223333"",""type"":""AWS::KMS::Key"",""arn"":""` + keyARN + `""}]"
2020-07-27 22:58:27.000,kms.amazonaws.com,GenerateDataKey,us-west-2,,arn:aws:iam::111122223333:user/batch,111122223333,IAMUser,,ThrottlingException,111122223333,"{""keyId"":""alias/app"",""numberOfBytes"":32}",
2020-07-27 22:58:28.000,s3.amazonaws.com,PutObject,us-west-2,,,111122223333,IAMUser,,,111122223333,,
2020-07-27 22:58:29.000,kms.amazonaws.com,Decrypt,us-west-2,,,111122223333,IAMUser,,,111122223333,{not json,
`

// TestReadCSVLake: a Lake export's flattened columns fill the same
// Events; a file without the columns every event has is one skip.
func TestReadCSVLake(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "lake.csv"), lakeCSV, false)
	write(t, filepath.Join(dir, "other.csv"), "eventTime,userIdentity.arn,event_name\n2020-07-27 22:58:24.000,x,Decrypt\n", false)
	var got []trail.Event
	s, err := trail.Read([]string{dir}, func(e trail.Event) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 2 || s.Records != 6 || s.KMS != 4 || s.Other != 1 || s.SkippedCount != 2 {
		t.Errorf("summary %+v; want 2 files, 6 records, 4 KMS events, 1 other, 2 skipped", s)
	}
	if len(s.Skipped) != 2 || !strings.Contains(s.Skipped[0].String(), "lake.csv: record 5: not a CloudTrail event: requestParameters: ") ||
		s.Skipped[1].String() != filepath.Join(dir, "other.csv")+": not a CloudTrail export: no eventSource column" {
		t.Errorf("skipped %v", s.Skipped)
	}
	if len(got) != 4 {
		t.Fatalf("%d events; want 4", len(got))
	}
	var dec trail.Event
	json.Unmarshal([]byte(decryptEvent), &dec)
	dec.Identity = trail.Identity{Type: "IAMUser", ARN: dec.Identity.ARN, AccountID: dec.Identity.AccountID}
	dec.UserAgent = ""
	if !reflect.DeepEqual(got[0], dec) {
		t.Errorf("Decrypt from Lake's CSV\n%+v\nfrom JSON (the columns Lake has)\n%+v", got[0], dec)
	}
	s3, cross, thr := got[1], got[2], got[3]
	if s3.Identity.InvokedBy != "s3.amazonaws.com" || s3.KeyARN() != keyARN || s3.Resources != nil || !s3.Time.Equal(dec.Time.Add(1e9)) {
		t.Errorf("S3's GenerateDataKey: %+v", s3)
	}
	if !cross.CrossAccount() || cross.KeyAccount() != "111122223333" {
		t.Errorf("cross-account Encrypt: %+v", cross)
	}
	if !thr.Throttled() || thr.Params.NumberOfBytes != 32 || thr.CallerAccount() != "111122223333" {
		t.Errorf("throttled GenerateDataKey: %+v", thr)
	}
}

// TestReadCSVOpenQuote: a quoted field left open is read no further than
// a long line's bound, and the rest of the file is skipped.
func TestReadCSVOpenQuote(t *testing.T) {
	text := "eventTime,eventSource,eventName\n2020-07-27T22:58:24Z,kms.amazonaws.com,Decrypt\n\"" + strings.Repeat("x,", 3<<20)
	var n int
	s, err := trail.ReadStream("open.csv", strings.NewReader(text), func(trail.Event) error { n++; return nil })
	if err != nil || n != 1 || s.SkippedCount != 1 || !strings.Contains(s.Skipped[0].String(), "open.csv: record 1: unreadable, the rest of the file is skipped: a row longer than") {
		t.Errorf("ReadStream = %+v, %v after %d events", s, err, n)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(lakeCSV))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(athenaHeader)
	w.WriteAll(athenaRows)
	f.Add(b.Bytes())
	f.Add([]byte("eventtime,eventsource,eventname,useridentity,resources,requestparameters\n2020-07-27T22:58:24Z,kms.amazonaws.com,Decrypt,\"{a={b=[c, d]}, e=f}\",\"[{arn=x}, null]\",\"{encryptioncontext={k=v}, numberofbytes=x}\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := trail.ReadStream("f.csv", bytes.NewReader(b), func(e trail.Event) error {
			if !e.IsKMS() || e.Name == "" || e.Time.IsZero() {
				t.Errorf("delivered %+v", e)
			}
			return nil
		})
		if err != nil || s.Records < s.KMS+s.Other || s.SkippedCount < int64(len(s.Skipped)) {
			t.Errorf("ReadStream = %+v, %v", s, err)
		}
	})
}
