package scenario_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/kmsload/kmsload/scenario"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenario.Schema()))
	if err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scenario.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("scenario.schema.json")
	if err != nil {
		t.Fatalf("Schema() does not compile: %v", err)
	}
	return sch
}

// yamlInstance converts a YAML document to the JSON value the schema
// validates, as yaml-language-server does.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func TestSchemaAcceptsValidFiles(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	for _, pattern := range []string{
		filepath.Join("..", "scenarios", "*.yaml"),
		filepath.Join("testdata", "good", "*.yaml"),
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 3 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scenario.Parse(f, data); err != nil {
			t.Errorf("%s is not a valid scenario: %v", f, err)
		}
		if err := sch.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("schema rejects %s: %v", f, err)
		}
	}
}

func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	base := "name: x\naccounts: {prod: \"111111111111\"}\nkeys: {k: {account: prod}}\n"
	tests := []struct {
		name, doc string
	}{
		{"unknown top-level field", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\nduraton: 10s\n"},
		{"unknown workload field", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, ratee: 1/s}}\n"},
		{"unknown key field", "name: x\naccounts: {prod: \"111111111111\"}\nkeys: {k: {account: prod, alais: alias/k}}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"bad rate", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 600/sec}}\n"},
		{"bare duration", base + "duration: 90\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"unknown operation", base + "workloads: {w: {caller: prod, key: k, operation: Decrpyt, rate: 1/s}}\n"},
		{"unquoted account id", "name: x\naccounts: {prod: 111111111111}\nworkloads: {w: {caller: prod, operation: GenerateRandom, rate: 1/s}}\n"},
		{"reserved alias", "name: x\naccounts: {prod: \"111111111111\"}\nkeys: {k: {account: prod, alias: alias/aws/s3}}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"AWS-managed key without its alias/aws/ alias", "name: x\naccounts: {prod: \"111111111111\"}\nkeys: {k: {account: prod, managed_by: aws, alias: alias/k}}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"AWS-managed key with grants", "name: x\naccounts: {prod: \"111111111111\", b: \"222222222222\"}\nkeys: {k: {account: prod, managed_by: aws, alias: alias/aws/s3, grant_accounts: [b]}}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"unknown managed_by", "name: x\naccounts: {prod: \"111111111111\"}\nkeys: {k: {account: prod, managed_by: partner}}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"unknown client field", base + "client: {retries: 3}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"unknown retry mode in a workload client", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s, client: {retry: eager}}}\n"},
		{"retry bucket of zero tokens", base + "client: {retry_bucket: 0}\nworkloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"},
		{"unknown variant", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\nvariants: {client.retries: [standard]}\n"},
		{"event field of another action", base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\nevents: [{at: 1s, action: disable-key, key: k, workload: w}]\n"},
	}
	valid := base + "workloads: {w: {caller: prod, key: k, operation: Encrypt, rate: 1/s}}\n"
	if err := sch.Validate(yamlInstance(t, []byte(valid))); err != nil {
		t.Fatalf("schema rejects the valid base document: %v", err)
	}
	if _, err := scenario.Parse("valid.yaml", []byte(valid)); err != nil {
		t.Fatalf("Parse rejects the valid base document: %v", err)
	}
	for _, tt := range tests {
		if err := sch.Validate(yamlInstance(t, []byte(tt.doc))); err == nil {
			t.Errorf("%s: schema accepts\n%s", tt.name, tt.doc)
		}
		if _, err := scenario.Parse("x.yaml", []byte(tt.doc)); err == nil {
			t.Errorf("%s: Parse accepts\n%s", tt.name, tt.doc)
		}
	}
}

func TestSchemaIsACopy(t *testing.T) {
	a := scenario.Schema()
	a[0] = 'X'
	if b := scenario.Schema(); b[0] == 'X' {
		t.Errorf("Schema() returns shared bytes; callers can corrupt it")
	}
}
