package quota_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/quota"
)

func TestDefaultLimits(t *testing.T) {
	c := quota.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	sym := func(region string) quota.BucketKey {
		return quota.BucketKey{Account: acctA, Region: region, Class: quota.Symmetric}
	}
	tests := []struct {
		key  quota.BucketKey
		want float64
	}{
		{sym("us-east-1"), 100000}, {sym("us-west-2"), 100000}, {sym("eu-west-1"), 100000},
		{sym("us-east-2"), 20000}, {sym("ap-southeast-1"), 20000}, {sym("ap-southeast-2"), 20000},
		{sym("ap-northeast-1"), 20000}, {sym("eu-central-1"), 20000}, {sym("eu-west-2"), 20000},
		{sym("eu-north-1"), 10000}, {sym("sa-east-1"), 10000}, {sym("us-west-1"), 10000}, {sym("cn-north-1"), 10000},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.RSA}, 1000},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.ECC}, 1000},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.MLDSA}, 1000},
		{quota.BucketKey{Region: "us-east-1", Class: quota.StoreClass("cks-1")}, 1800},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.APIClass("CreateKey")}, 5},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: quota.APIClass("NoSuchAPI")}, 5},
		{quota.BucketKey{Account: acctA, Region: "us-east-1", Class: "bogus"}, 0},
	}
	for _, tt := range tests {
		if got := c.Limit(tt.key); got != tt.want {
			t.Errorf("Limit(%v) = %v; want %v", tt.key, got, tt.want)
		}
	}
	if got := c.StoreWeight(quota.StoreCloudHSM, "GenerateDataKey"); got != 3 {
		t.Errorf("StoreWeight(GenerateDataKey) = %v; want 3", got)
	}
	if got := c.StoreWeight("", "Decrypt"); got != 1 {
		t.Errorf("StoreWeight(Decrypt) = %v; want 1", got)
	}
}

func TestScale(t *testing.T) {
	key := func(c quota.Class) quota.BucketKey {
		return quota.BucketKey{Account: acctA, Region: "us-east-1", Class: c}
	}
	tests := []struct {
		scale, minLimit float64
		key             quota.BucketKey
		want            float64
	}{
		{0.01, 1, key(quota.Symmetric), 1000},
		{0.01, 1, key(quota.RSA), 10},
		{0.01, 1, key(quota.APIClass("DescribeKey")), 20},
		{0.01, 1, key(quota.APIClass("CreateKey")), 1}, // 0.05 floored at 1
		{0.01, 0, key(quota.APIClass("CreateKey")), 0.05},
		{0.01, 10, key(quota.APIClass("CreateKey")), 5}, // floor never above the unscaled value
		{2, 1, key(quota.APIClass("CreateKey")), 10},
		{0.5, 1, quota.BucketKey{Region: "x", Class: quota.StoreClass("s")}, 900},
	}
	for _, tt := range tests {
		c := quota.DefaultConfig()
		c.Scale, c.MinLimit = tt.scale, tt.minLimit
		if got := c.Limit(tt.key); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Scale %v MinLimit %v: Limit(%v) = %v; want %v", tt.scale, tt.minLimit, tt.key, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*quota.Config)
		want []string // substrings of the error; none means valid
	}{
		{"default", func(*quota.Config) {}, nil},
		{"token bucket", func(c *quota.Config) { c.Algorithm = quota.TokenBucket; c.BurstSeconds = 0.5 }, nil},
		{"zero scale", func(c *quota.Config) { c.Scale = 0 }, []string{"scale 0 must be > 0"}},
		{"negative scale", func(c *quota.Config) { c.Scale = -1 }, []string{"scale -1 must be > 0"}},
		{"NaN scale", func(c *quota.Config) { c.Scale = math.NaN() }, []string{"scale NaN"}},
		{"zero burst", func(c *quota.Config) { c.BurstSeconds = 0 }, []string{"burst_seconds 0"}},
		{"negative min", func(c *quota.Config) { c.MinLimit = -1 }, []string{"min_limit -1"}},
		{"algorithm", func(c *quota.Config) { c.Algorithm = "leaky" }, []string{`algorithm "leaky"`}},
		{"zero region", func(c *quota.Config) { c.SymmetricByRegion["us-east-1"] = 0 }, []string{"symmetric_by_region[us-east-1] 0"}},
		{"bad region", func(c *quota.Config) { c.SymmetricByRegion["US_EAST"] = 5 }, []string{`"US_EAST" is not a Region`}},
		{"negative other", func(c *quota.Config) { c.SymmetricOtherRegions = -10 }, []string{"symmetric_other_regions -10"}},
		{"negative api", func(c *quota.Config) { c.APIs["CreateKey"] = -5 }, []string{"apis[CreateKey] -5"}},
		{"unknown api", func(c *quota.Config) { c.APIs["CreatKey"] = 5 }, []string{`unknown API "CreatKey"`}},
		{"missing rsa", func(c *quota.Config) { delete(c.Asymmetric, quota.RSA) }, []string{"asymmetric[rsa] is missing"}},
		{"bad class", func(c *quota.Config) { c.Asymmetric["dsa"] = 1 }, []string{`unknown class "dsa"`}},
		{"store", func(c *quota.Config) { c.CustomKeyStore = 0 }, []string{"custom_key_store 0"}},
		{"weight", func(c *quota.Config) { c.StoreWeights["Encrypt"] = 0 }, []string{"store_weights[Encrypt] 0"}},
		{"weight op", func(c *quota.Config) { c.StoreWeights["CreateKey"] = 2 }, []string{`"CreateKey" is not a cryptographic`}},
		{"several", func(c *quota.Config) { c.Scale = 0; c.OtherAPIs = 0 }, []string{"scale 0", "other_apis 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := quota.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil; want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q; want it to contain %q", err, w)
				}
			}
			if _, err := quota.New(c); err == nil {
				t.Errorf("New accepted a config Validate rejects")
			}
		})
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	p := writeFile(t, "q.yaml", `# quotas for a small lab
algorithm: token-bucket
scale: 0.5
burst_seconds: 2
symmetric_by_region:
  us-east-1: 300
apis:
  CreateKey: 7
store_weights:
  Decrypt: 2
`)
	c, err := quota.LoadFile(p)
	if err != nil {
		t.Fatalf("LoadFile = %v", err)
	}
	sym := func(region string) quota.BucketKey {
		return quota.BucketKey{Account: acctA, Region: region, Class: quota.Symmetric}
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"scale", c.Scale, 0.5},
		{"burst", c.BurstSeconds, 2},
		{"us-east-1 (overridden)", c.Limit(sym("us-east-1")), 150},
		{"us-west-2 (kept)", c.Limit(sym("us-west-2")), 50000},
		{"other Regions (kept)", c.Limit(sym("eu-north-1")), 5000},
		{"CreateKey (overridden)", c.APIs["CreateKey"], 7},
		{"DescribeKey (kept)", c.APIs["DescribeKey"], 2000},
		{"Decrypt weight", c.StoreWeight("", "Decrypt"), 2},
		{"GenerateDataKey weight (kept)", c.StoreWeight(quota.StoreCloudHSM, "GenerateDataKey"), 3},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("LoadFile: %s = %v; want %v", ck.what, ck.got, ck.want)
		}
	}
	if c.Algorithm != quota.TokenBucket {
		t.Errorf("LoadFile: algorithm = %q; want %q", c.Algorithm, quota.TokenBucket)
	}
}

func TestLoadFileJSONAndEmpty(t *testing.T) {
	c, err := quota.LoadFile(writeFile(t, "q.json", `{"scale": 0.25, "apis": {"DescribeKey": 100}}`))
	if err != nil {
		t.Fatalf("LoadFile(json) = %v", err)
	}
	if c.Scale != 0.25 || c.APIs["DescribeKey"] != 100 || c.APIs["CreateKey"] != 5 {
		t.Errorf("LoadFile(json) scale %v DescribeKey %v CreateKey %v; want 0.25 100 5", c.Scale, c.APIs["DescribeKey"], c.APIs["CreateKey"])
	}
	c, err = quota.LoadFile(writeFile(t, "empty.yaml", "# nothing changed\n"))
	if err != nil {
		t.Fatalf("LoadFile(empty) = %v", err)
	}
	if c.Scale != 1 || c.Algorithm != quota.FixedWindow || c.SymmetricOtherRegions != 10000 {
		t.Errorf("LoadFile(empty) = %+v; want the defaults", c)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unknown field", "scale: 1\n\nburst_secs: 2\n", []string{"line 3", "burst_secs"}},
		{"nested typo", "apis:\n  CreateKey: 5\n  DescribeKy: 10\n", []string{":3:3:", `"DescribeKy"`}},
		{"crypto op in apis", "apis:\n  Encrypt: 5\n", []string{":2:3:", "cryptographic"}},
		{"bad region", "symmetric_by_region:\n  useast1: 5\n", []string{":2:3:", "Region"}},
		{"bad class", "asymmetric:\n  dsa: 5\n", []string{":2:3:", "dsa"}},
		{"wrong type", "scale: fast\n", []string{"line 1", "fast"}},
		{"invalid value", "scale: 0\n", []string{"scale 0 must be > 0"}},
		{"negative limit", "apis:\n  CreateKey: -1\n", []string{"apis[CreateKey] -1"}},
		{"two documents", "scale: 1\n---\nscale: 2\n", []string{"more than one document"}},
		{"syntax", "scale: [1\n", []string{"yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "q.yaml", tt.text)
			_, err := quota.LoadFile(p)
			if err == nil {
				t.Fatalf("LoadFile(%q) = nil error; want one containing %q", tt.text, tt.want)
			}
			for _, w := range append(tt.want, p) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadFile(%q) = %q; want it to contain %q", tt.text, err, w)
				}
			}
		})
	}
	if _, err := quota.LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "quota: ") {
		t.Errorf("LoadFile(missing) = %v; want a quota: error", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("scale: 0.5\napis:\n  CreateKey: 7\n"))
	f.Add([]byte(`{"algorithm": "token-bucket", "burst_seconds": 3}`))
	f.Add([]byte("symmetric_by_region: {us-east-1: 1}\nasymmetric: {rsa: 2}\n"))
	f.Add([]byte("apis: ~\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := quota.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
		if _, err := quota.New(c); err != nil {
			t.Fatalf("New(Parse(...)) = %v", err)
		}
	})
}
