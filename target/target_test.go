package target_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/internal/targettest"
	"github.com/kmsload/kmsload/target"
)

const acctA = "111111111111"

// TestIdentify names each server the tests can start by what it serves.
func TestIdentify(t *testing.T) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emu := httptest.NewServer(srv)
	defer emu.Close()
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	tests := []struct {
		name string
		url  func(t *testing.T) string
		want string
	}{
		{"kmsload emulator", func(*testing.T) string { return emu.URL }, target.ServerKmsload},
		{"unknown server", func(*testing.T) string { return other.URL }, ""},
		{"moto_server", func(t *testing.T) string { return targettest.Moto(t) }, target.ServerMoto},
		{"local-kms", func(t *testing.T) string { return targettest.LocalKMS(t, acctA, "us-east-1") }, target.ServerLocalKMS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target.Identify(context.Background(), nil, tt.url(t)); got != tt.want {
				t.Errorf("Identify(%s) = %q; want %q", tt.name, got, tt.want)
			}
		})
	}
}
