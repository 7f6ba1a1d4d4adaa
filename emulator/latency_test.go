package emulator_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsload/kmsload/emulator"
)

var latencyT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseLatencyNone(t *testing.T) {
	for _, spec := range []string{"", "none", "  none "} {
		f, err := emulator.ParseLatency(spec)
		if err != nil || f != nil {
			t.Errorf("ParseLatency(%q) = (%v, %v); want (nil, nil)", spec, f != nil, err)
		}
	}
}

func TestParseLatencyFixed(t *testing.T) {
	tests := []struct {
		spec string
		want map[string]time.Duration // op -> delay
	}{
		{"fixed:2ms", map[string]time.Duration{"Encrypt": 2 * time.Millisecond, "Sign": 2 * time.Millisecond, "CreateKey": 2 * time.Millisecond}},
		{" fixed: 1.5s ", map[string]time.Duration{"Decrypt": 1500 * time.Millisecond}},
		{"fixed:0s", map[string]time.Duration{"Decrypt": 0}},
		{"symmetric=fixed:1ms;asymmetric=fixed:20ms;management=fixed:5ms", map[string]time.Duration{
			"Encrypt": time.Millisecond, "Decrypt": time.Millisecond, "ReEncrypt": time.Millisecond,
			"GenerateDataKey": time.Millisecond, "GenerateDataKeyWithoutPlaintext": time.Millisecond,
			"GenerateDataKeyPair": time.Millisecond, "GenerateRandom": time.Millisecond,
			"GenerateMac": time.Millisecond, "VerifyMac": time.Millisecond,
			"Sign": 20 * time.Millisecond, "Verify": 20 * time.Millisecond, "GetPublicKey": 20 * time.Millisecond,
			"CreateKey": 5 * time.Millisecond, "DescribeKey": 5 * time.Millisecond, "ListAliases": 5 * time.Millisecond,
		}},
		{"asymmetric=fixed:20ms; default=fixed:3ms ;", map[string]time.Duration{
			"Sign": 20 * time.Millisecond, "Encrypt": 3 * time.Millisecond, "CreateKey": 3 * time.Millisecond,
		}},
		{"symmetric=fixed:1ms", map[string]time.Duration{
			"Encrypt": time.Millisecond, "Sign": 0, "DescribeKey": 0,
		}},
	}
	for _, tt := range tests {
		f, err := emulator.ParseLatency(tt.spec)
		if err != nil {
			t.Errorf("ParseLatency(%q) error %v", tt.spec, err)
			continue
		}
		for op, want := range tt.want {
			if got := f(op, latencyT0); got != want {
				t.Errorf("ParseLatency(%q)(%q) = %v; want %v", tt.spec, op, got, want)
			}
		}
	}
}

func TestParseLatencyErrors(t *testing.T) {
	tests := []struct {
		spec    string
		mention string
	}{
		{"fast", `"fast"`},
		{"fixed:", `bad duration ""`},
		{"fixed:2", `bad duration "2"`},
		{"fixed:-1ms", "negative"},
		{"uniform:1ms", `unknown distribution "uniform"`},
		{"lognormal:median=3ms", "both median and p99"},
		{"lognormal:p99=3ms", "both median and p99"},
		{"lognormal:median=3ms,p99=2ms", "below median"},
		{"lognormal:median=0s,p99=2ms", "median must be positive"},
		{"lognormal:median=3ms,p90=9ms", `unknown parameter "p90"`},
		{"lognormal:median=3ms;p99=9ms", "p99=9ms"},
		{"lognormal:median=x,p99=9ms", `median: bad duration "x"`},
		{"lognormal:median", `"median" is not name=DURATION`},
		{"symmetric=fixed:1ms;rsa=fixed:2ms", `unknown class "rsa"`},
		{"symmetric=fixed:1ms;symmetric=fixed:2ms", "given twice"},
		{"symmetric=fixed:1ms;asymmetric", `"asymmetric": want class=dist`},
		{"asymmetric=lognormal:median=5ms,p99=1ms", "class asymmetric"},
		{";;", "want fixed:DURATION"},
	}
	for _, tt := range tests {
		f, err := emulator.ParseLatency(tt.spec)
		if err == nil {
			t.Errorf("ParseLatency(%q) = (%v, nil); want error", tt.spec, f != nil)
			continue
		}
		if !errors.Is(err, emulator.ErrLatencySpec) {
			t.Errorf("ParseLatency(%q) error %q does not wrap ErrLatencySpec", tt.spec, err)
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseLatency(%q) error %q; want it to mention %q", tt.spec, err, tt.mention)
		}
	}
}

func TestParseLatencyLognormal(t *testing.T) {
	tests := []struct {
		spec        string
		op          string
		median, p99 time.Duration
	}{
		{"lognormal:median=3ms,p99=12ms", "Decrypt", 3 * time.Millisecond, 12 * time.Millisecond},
		{"lognormal: p99=60ms , median=20ms", "Sign", 20 * time.Millisecond, 60 * time.Millisecond},
		{"management=fixed:1ms;asymmetric=lognormal:median=500us,p99=10ms", "Verify", 500 * time.Microsecond, 10 * time.Millisecond},
		{"lognormal:median=4ms,p99=4ms", "Encrypt", 4 * time.Millisecond, 4 * time.Millisecond},
	}
	const n = 20000
	for _, tt := range tests {
		f, err := emulator.ParseLatency(tt.spec)
		if err != nil {
			t.Fatalf("ParseLatency(%q) error %v", tt.spec, err)
		}
		samples := make([]time.Duration, n)
		for i := range samples {
			samples[i] = f(tt.op, latencyT0)
		}
		slices.Sort(samples)
		gotMedian, gotP99 := samples[n/2], samples[n*99/100]
		if !latencyWithin(gotMedian, tt.median, 0.10) {
			t.Errorf("ParseLatency(%q): empirical median of %d samples = %v; want %v ±10%%", tt.spec, n, gotMedian, tt.median)
		}
		if !latencyWithin(gotP99, tt.p99, 0.10) {
			t.Errorf("ParseLatency(%q): empirical p99 of %d samples = %v; want %v ±10%%", tt.spec, n, gotP99, tt.p99)
		}
		if samples[0] <= 0 {
			t.Errorf("ParseLatency(%q): smallest sample %v; want > 0", tt.spec, samples[0])
		}
	}
}

func TestParseLatencyConcurrent(t *testing.T) {
	f, err := emulator.ParseLatency("lognormal:median=3ms,p99=12ms")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if d := f("Encrypt", latencyT0); d <= 0 {
					t.Errorf("sample %v; want > 0", d)
					return
				}
			}
		})
	}
	wg.Wait()
}

func latencyWithin(got, want time.Duration, tol float64) bool {
	diff := float64(got - want)
	if diff < 0 {
		diff = -diff
	}
	return diff <= tol*float64(want)
}

func writeCredentialsFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCredentials(t *testing.T) {
	path := writeCredentialsFile(t, "\ufeff# kmsload test keys\n"+
		"[default]\n"+
		"aws_access_key_id = 111111111111\n"+
		"aws_secret_access_key=secret-one\n"+
		"region = us-east-1\n"+
		"\n"+
		"; second account\n"+
		"[ security ]\n"+
		"AWS_SECRET_ACCESS_KEY =  s3cr=t/two  \n"+
		"aws_access_key_id=222222222222\n"+
		"aws_session_token = ignored\n"+
		"[region-only]\n"+
		"region = eu-west-1\n"+
		"[same-key-again]\n"+
		"aws_access_key_id = 111111111111\n"+
		"aws_secret_access_key = secret-one\n")
	got, err := emulator.LoadCredentials(path)
	if err != nil {
		t.Fatalf("LoadCredentials error %v", err)
	}
	want := map[string]string{"111111111111": "secret-one", "222222222222": "s3cr=t/two"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LoadCredentials = %v; want %v", got, want)
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	tests := []struct {
		name, content, mention string
	}{
		{"key before profile", "aws_access_key_id = 1\n", ":1: "},
		{"no equals", "[a]\naws_access_key_id 1\n", ":2: want key = value"},
		{"unclosed section", "[a]\naws_access_key_id=1\naws_secret_access_key=2\n[b\n", ":4: section header"},
		{"empty section", "[]\n", ":1: empty profile name"},
		{"id without secret", "[a]\naws_access_key_id=1\naws_secret_access_key=2\n\n[b]\naws_access_key_id=3\n", ":5: profile [b] has aws_access_key_id but no aws_secret_access_key"},
		{"secret without id", "[a]\naws_secret_access_key=2\n", ":1: profile [a] has aws_secret_access_key but no aws_access_key_id"},
		{"empty id", "[a]\naws_access_key_id=\n", ":2: empty aws_access_key_id"},
		{"conflicting secrets", "[a]\naws_access_key_id=1\naws_secret_access_key=x\n[b]\naws_access_key_id=1\naws_secret_access_key=y\n", ":5: access key id 1 already defined with another secret on line 2"},
		{"empty file", "# nothing\n", "no profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeCredentialsFile(t, tt.content)
			got, err := emulator.LoadCredentials(path)
			if err == nil {
				t.Fatalf("LoadCredentials(%q) = %v, nil; want error", tt.content, got)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("LoadCredentials(%q) error %q; want it to name %s and mention %q", tt.content, err, path, tt.mention)
			}
		})
	}
	if _, err := emulator.LoadCredentials(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadCredentials(missing file) error %v; want one wrapping os.ErrNotExist", err)
	}
}

func ExampleParseLatency() {
	delay, err := emulator.ParseLatency("symmetric=fixed:2ms;asymmetric=fixed:20ms;default=fixed:5ms")
	if err != nil {
		panic(err)
	}
	for _, op := range []string{"Decrypt", "GenerateDataKey", "Sign", "CreateKey"} {
		fmt.Println(op, delay(op, time.Now()))
	}
	// Output:
	// Decrypt 2ms
	// GenerateDataKey 2ms
	// Sign 20ms
	// CreateKey 5ms
}
