package main_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ghWorkflow is the part of a GitHub Actions workflow the CI docs rely on.
type ghWorkflow struct {
	Name string         `yaml:"name"`
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		RunsOn   string `yaml:"runs-on"`
		Services map[string]struct {
			Image   string            `yaml:"image"`
			Ports   []string          `yaml:"ports"`
			Env     map[string]string `yaml:"env"`
			Options string            `yaml:"options"`
		} `yaml:"services"`
		Steps []struct {
			Name string         `yaml:"name"`
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
			If   string         `yaml:"if"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

const workflowFile = "../../docs/ci/kmsload.yml"

// kmsloadRunLine returns the `kmsload run` command line of the workflow.
func kmsloadRunLine(t *testing.T, wf ghWorkflow) string {
	t.Helper()
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			for _, line := range strings.Split(st.Run, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "kmsload run ") {
					return strings.TrimSpace(line)
				}
			}
		}
	}
	t.Fatal("no step runs `kmsload run`")
	return ""
}

// TestCIWorkflow parses docs/ci/kmsload.yml (LocalStack cannot run here)
// and checks its structure, and that docs/ci.md shows the same file.
func TestCIWorkflow(t *testing.T) {
	data, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var loose map[string]any
	if err := yaml.Unmarshal(data, &loose); err != nil {
		t.Fatalf("%s does not parse: %v", workflowFile, err)
	}
	var wf ghWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", workflowFile, err)
	}
	for _, key := range []string{"name", "on", "jobs"} {
		if _, ok := loose[key]; !ok {
			t.Errorf("%s: no top-level %q", workflowFile, key)
		}
	}
	if wf.Name == "" || len(wf.On) == 0 {
		t.Errorf("workflow name %q, triggers %v", wf.Name, wf.On)
	}
	if len(wf.Jobs) != 1 {
		t.Fatalf("%d jobs; want 1", len(wf.Jobs))
	}
	for name, job := range wf.Jobs {
		if !strings.HasPrefix(job.RunsOn, "ubuntu-") {
			t.Errorf("job %s runs-on %q; want an ubuntu runner (service containers need Linux)", name, job.RunsOn)
		}
		ls, ok := job.Services["localstack"]
		if !ok {
			t.Fatalf("job %s has no localstack service", name)
		}
		img, tag, _ := strings.Cut(ls.Image, ":")
		if img != "localstack/localstack" || tag == "" || tag == "latest" {
			t.Errorf("services.localstack.image %q; want localstack/localstack with a pinned tag", ls.Image)
		}
		if !slices.Contains(ls.Ports, "4566:4566") {
			t.Errorf("services.localstack.ports %v; want 4566:4566", ls.Ports)
		}
		if !strings.Contains(ls.Options, "--health-cmd") {
			t.Errorf("services.localstack.options %q; want a health check so steps start after LocalStack is up", ls.Options)
		}
		var uses []string
		var upload bool
		for _, st := range job.Steps {
			uses = append(uses, strings.Split(st.Uses, "@")[0])
			if strings.HasPrefix(st.Uses, "actions/upload-artifact@") && st.If == "always()" {
				upload = true
			}
		}
		for _, want := range []string{"actions/checkout", "actions/setup-go"} {
			if !slices.Contains(uses, want) {
				t.Errorf("steps use %v; want %s", uses, want)
			}
		}
		if !upload {
			t.Error("no upload-artifact step with if: always() (results of failing runs would be lost)")
		}
	}
	line := kmsloadRunLine(t, wf)
	for _, want := range []string{"--target endpoint", "--endpoint http://localhost:4566", "--junit junit.xml", `--summary-md "$GITHUB_STEP_SUMMARY"`} {
		if !strings.Contains(line, want) {
			t.Errorf("kmsload run line %q lacks %q", line, want)
		}
	}
	var script string
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if strings.Contains(st.Run, line) {
				script = st.Run
			}
		}
	}
	if !strings.Contains(script, "code=$?") || !strings.Contains(script, "99)") || !strings.Contains(script, "exit $code") {
		t.Errorf("the kmsload step does not gate on the exit code:\n%s", script)
	}

	doc, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(data)+"```\n") {
		t.Error("docs/ci.md does not show docs/ci/kmsload.yml verbatim in a yaml block")
	}
}

// TestCIWorkflowCommand runs the workflow's own `kmsload run` line, with
// LocalStack's URL replaced by a `kmsload emulator` process (quotas off,
// as on LocalStack) and a shorter duration, on the example scenario: its
// thresholds pass, and the JUnit file and step summary are written.
func TestCIWorkflowCommand(t *testing.T) {
	data, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var wf ghWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	line := kmsloadRunLine(t, wf)

	addr := freeAddr(t)
	emu := exec.Command(bin, "emulator", "--addr", addr, "--quotas", "off")
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Process.Kill(); emu.Wait() })
	waitHealthy(t, "http://"+addr)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), mustRead(t, "../../docs/ci/scenario.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "step-summary.md")
	line = strings.ReplaceAll(line, "http://localhost:4566", "http://"+addr)
	line = strings.ReplaceAll(line, `"$GITHUB_STEP_SUMMARY"`, summary)
	args := append(strings.Fields(line)[1:], "--duration", "5s")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kmsload %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(string(out), "thresholds: all 9 passed") {
		t.Errorf("example scenario thresholds did not all pass:\n%s", out)
	}
	var rep junitReport
	if err := xml.Unmarshal(mustRead(t, filepath.Join(dir, "junit.xml")), &rep); err != nil || len(rep.Suites) != 1 || rep.Suites[0].Tests != 12 {
		t.Errorf("junit.xml: %v, %+v", err, rep)
	}
	if !strings.Contains(string(mustRead(t, summary)), "## kmsload: ci-smoke — ✅ pass\n\n**PASS: all 9 thresholds passed") {
		t.Errorf("step summary:\n%s", mustRead(t, summary))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
