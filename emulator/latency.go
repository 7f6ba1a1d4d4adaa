package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// ErrLatencySpec is wrapped by every error ParseLatency returns.
var ErrLatencySpec = errors.New("emulator: bad latency spec")

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.3263478740408408

// Operation classes of the service-time model.
const (
	classSymmetric  = "symmetric"
	classAsymmetric = "asymmetric"
	classManagement = "management"
	classDefault    = "default"
)

// ParseLatency parses a service-time model (the --latency flag) and returns
// the function that Options.Delay expects, or nil for no added latency.
//
// Grammar:
//
//	spec      = "" | "none" | dist | class "=" dist { ";" class "=" dist }
//	class     = "symmetric" | "asymmetric" | "management" | "default"
//	dist      = "fixed:" duration
//	          | "lognormal:median=" duration ",p99=" duration   (either order)
//	duration  = a Go duration such as 800us, 3ms or 1.5s
//
// A single dist applies to every operation. In the per-class form an
// operation takes the dist of its class, else that of "default", else no
// delay. Classes: symmetric is Encrypt, Decrypt, ReEncrypt,
// GenerateDataKey*, GenerateRandom, GenerateMac and VerifyMac; asymmetric is
// Sign, Verify and GetPublicKey; management is every other operation.
// Spaces around parts are ignored. Examples:
//
//	fixed:2ms
//	lognormal:median=3ms,p99=12ms
//	symmetric=lognormal:median=3ms,p99=12ms;asymmetric=fixed:20ms;default=fixed:5ms
//
// "lognormal" draws exp(N(mu, sigma)) with mu = ln(median) and
// sigma = ln(p99/median)/2.3263 (the 99th percentile of N(0,1)), so half the
// samples fall below median and 1% above p99. It needs 0 < median <= p99.
// The returned function is safe for concurrent use; it ignores now, which
// is part of the signature so that time-varying models fit the same slot.
// Errors wrap ErrLatencySpec and name the part that is wrong.
func ParseLatency(spec string) (func(op string, now time.Time) time.Duration, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return nil, nil
	}
	if !strings.Contains(spec, "=") || strings.HasPrefix(spec, "fixed:") || strings.HasPrefix(spec, "lognormal:") {
		d, err := parseDist(spec)
		if err != nil {
			return nil, err
		}
		return func(string, time.Time) time.Duration { return d() }, nil
	}
	classes := map[string]func() time.Duration{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, distSpec, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%w: %q: want class=dist", ErrLatencySpec, part)
		}
		switch name {
		case classSymmetric, classAsymmetric, classManagement, classDefault:
		default:
			return nil, fmt.Errorf("%w: %q: unknown class %q (want symmetric, asymmetric, management or default)",
				ErrLatencySpec, part, name)
		}
		if _, dup := classes[name]; dup {
			return nil, fmt.Errorf("%w: %q: class %q given twice", ErrLatencySpec, part, name)
		}
		d, err := parseDist(distSpec)
		if err != nil {
			return nil, fmt.Errorf("class %s: %w", name, err)
		}
		classes[name] = d
	}
	def := classes[classDefault]
	byClass := map[string]func() time.Duration{}
	for _, c := range []string{classSymmetric, classAsymmetric, classManagement} {
		if d, ok := classes[c]; ok {
			byClass[c] = d
		} else {
			byClass[c] = def
		}
	}
	return func(op string, _ time.Time) time.Duration {
		if d := byClass[latencyClass(op)]; d != nil {
			return d()
		}
		return 0
	}, nil
}

// latencyClass returns the service-time class of a KMS operation name.
func latencyClass(op string) string {
	switch op {
	case "Encrypt", "Decrypt", "ReEncrypt", "GenerateRandom", "GenerateMac", "VerifyMac":
		return classSymmetric
	case "Sign", "Verify", "GetPublicKey":
		return classAsymmetric
	}
	if strings.HasPrefix(op, "GenerateDataKey") {
		return classSymmetric
	}
	return classManagement
}

// parseDist parses one dist of the ParseLatency grammar.
func parseDist(s string) (func() time.Duration, error) {
	s = strings.TrimSpace(s)
	kind, args, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%w: %q: want fixed:DURATION or lognormal:median=DURATION,p99=DURATION", ErrLatencySpec, s)
	}
	switch strings.TrimSpace(kind) {
	case "fixed":
		d, err := parseLatencyDuration(args)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrLatencySpec, s, err)
		}
		return func() time.Duration { return d }, nil
	case "lognormal":
		var median, p99 time.Duration
		var haveMedian, haveP99 bool
		for _, kv := range strings.Split(args, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("%w: %q: parameter %q is not name=DURATION", ErrLatencySpec, s, strings.TrimSpace(kv))
			}
			d, err := parseLatencyDuration(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: %s: %v", ErrLatencySpec, s, strings.TrimSpace(k), err)
			}
			switch strings.TrimSpace(k) {
			case "median":
				median, haveMedian = d, true
			case "p99":
				p99, haveP99 = d, true
			default:
				return nil, fmt.Errorf("%w: %q: unknown parameter %q (want median and p99)", ErrLatencySpec, s, strings.TrimSpace(k))
			}
		}
		switch {
		case !haveMedian || !haveP99:
			return nil, fmt.Errorf("%w: %q: lognormal needs both median and p99", ErrLatencySpec, s)
		case median <= 0:
			return nil, fmt.Errorf("%w: %q: median must be positive", ErrLatencySpec, s)
		case p99 < median:
			return nil, fmt.Errorf("%w: %q: p99 %v is below median %v", ErrLatencySpec, s, p99, median)
		}
		return lognormal(median, p99), nil
	default:
		return nil, fmt.Errorf("%w: %q: unknown distribution %q (want fixed or lognormal)", ErrLatencySpec, s, strings.TrimSpace(kind))
	}
}

// lognormal returns a sampler of the lognormal distribution with the given
// median and 99th percentile. It uses the goroutine-safe top-level
// functions of math/rand/v2.
func lognormal(median, p99 time.Duration) func() time.Duration {
	sigma := math.Log(float64(p99)/float64(median)) / z99
	m := float64(median)
	return func() time.Duration {
		v := m * math.Exp(sigma*rand.NormFloat64())
		if v >= math.MaxInt64 || math.IsNaN(v) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(v)
	}
}

func parseLatencyDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// LoadCredentials reads access keys for Options.Credentials (used with
// --verify-sigv4) from a file in the AWS shared credentials format:
//
//	# comment
//	[profile-name]
//	aws_access_key_id = 111111111111
//	aws_secret_access_key = x
//
// Every profile that names an access key id must name its secret. Other
// keys (aws_session_token, region, ...) are ignored; lines starting with
// '#' or ';' are comments. It returns access key id -> secret access key;
// an access key id given twice with different secrets is an error. Errors
// name the file and line.
func LoadCredentials(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("emulator: credentials: %w", err)
	}
	defer f.Close()

	type profile struct {
		name       string
		line       int
		akid       string
		secret     string
		akidLine   int
		haveSecret bool
	}
	creds := map[string]string{}
	seen := map[string]int{} // access key id -> line it was defined on
	var cur *profile
	finish := func() error {
		if cur == nil {
			return nil
		}
		switch {
		case cur.akid == "" && !cur.haveSecret:
			return nil
		case cur.akid == "":
			return fmt.Errorf("emulator: %s:%d: profile [%s] has aws_secret_access_key but no aws_access_key_id", path, cur.line, cur.name)
		case !cur.haveSecret:
			return fmt.Errorf("emulator: %s:%d: profile [%s] has aws_access_key_id but no aws_secret_access_key", path, cur.line, cur.name)
		}
		if old, ok := creds[cur.akid]; ok && old != cur.secret {
			return fmt.Errorf("emulator: %s:%d: access key id %s already defined with another secret on line %d",
				path, cur.akidLine, cur.akid, seen[cur.akid])
		}
		creds[cur.akid] = cur.secret
		seen[cur.akid] = cur.akidLine
		return nil
	}

	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("emulator: %s:%d: section header %q has no closing ']'", path, n, line)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if name == "" {
				return nil, fmt.Errorf("emulator: %s:%d: empty profile name", path, n)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &profile{name: name, line: n}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("emulator: %s:%d: want key = value or [profile], got %q", path, n, line)
		}
		if cur == nil {
			return nil, fmt.Errorf("emulator: %s:%d: %q before the first [profile] header", path, n, strings.TrimSpace(k))
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "aws_access_key_id":
			if v == "" {
				return nil, fmt.Errorf("emulator: %s:%d: empty aws_access_key_id", path, n)
			}
			cur.akid, cur.akidLine = v, n
		case "aws_secret_access_key":
			if v == "" {
				return nil, fmt.Errorf("emulator: %s:%d: empty aws_secret_access_key", path, n)
			}
			cur.secret, cur.haveSecret = v, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("emulator: %s:%d: %w", path, n+1, err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("emulator: %s: no profile with aws_access_key_id and aws_secret_access_key", path)
	}
	return creds, nil
}
