package compat_test

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/emulator/compat"
	"github.com/kmsload/kmsload/internal/targettest"
	"github.com/kmsload/kmsload/target"
)

func emulatorTarget(t *testing.T) compat.Target {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return compat.Target{Name: "emulator", Server: target.ServerKmsload, Endpoint: ts.URL, HTTPClient: ts.Client()}
}

// TestEmulatorPassesSuite: kmsload's emulator passes every check.
func TestEmulatorPassesSuite(t *testing.T) {
	for _, r := range compat.Run(context.Background(), emulatorTarget(t)) {
		if r.Err != nil {
			t.Errorf("%s: %s: %v", r.Op, r.Name, r.Err)
		}
	}
}

// TestCompatTable runs the suite against the emulator, moto_server and
// local-kms and prints the pass table (make compat). It runs only with
// KMSLOAD_COMPAT=1: the other servers take a while to start.
func TestCompatTable(t *testing.T) {
	if os.Getenv("KMSLOAD_COMPAT") != "1" {
		t.Skip("set KMSLOAD_COMPAT=1 (make compat) to run the suite against moto_server and local-kms")
	}
	targets := []compat.Target{
		emulatorTarget(t),
		{Name: "moto", Server: target.ServerMoto, Endpoint: targettest.Moto(t)},
		{Name: "local-kms", Server: target.ServerLocalKMS, Endpoint: targettest.LocalKMS(t, compat.Owner, compat.Region)},
	}
	results := map[string][]compat.Result{}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Name)
		results[tg.Name] = compat.Run(context.Background(), tg)
	}
	t.Logf("KMS compatibility suite (%d checks, by operation):\n%s", len(compat.Suite()), compat.Table(names, results))
}
