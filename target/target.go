// Package target knows the KMS servers behind an endpoint: Identify names
// the server (kmsload's emulator, LocalStack, moto, local-kms), APIOptions
// adds what a server needs of each request, and Preflight probes, before a
// run provisions anything, whether the target can do what the scenario
// needs, reporting every missing feature in a *TargetError.
package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// KMS servers Identify recognises behind an endpoint.
const (
	// ServerKmsload is kmsload's own emulator (or its throttling proxy).
	ServerKmsload = "kmsload"
	// ServerLocalStack is LocalStack (health at /_localstack/health).
	ServerLocalStack = "localstack"
	// ServerMoto is moto_server.
	ServerMoto = "moto"
	// ServerLocalKMS is nsmithuk/local-kms.
	ServerLocalKMS = "local-kms"
)

// MotoAccountHeader is the request header moto_server takes the caller
// account from (ahead of the access key id, which moto maps to an account
// only for credentials it issued itself). The driver sends it with the
// signing account's id on every request to ServerMoto (APIOptions).
const MotoAccountHeader = "x-moto-account-id"

// ProbeTag is the tag key of the keys Preflight creates; its value is
// "preflight".
const ProbeTag = "kmsload:probe"

// ErrTargetLacks is wrapped by the *TargetError that Preflight (and Run)
// return when the target cannot do something the scenario needs.
var ErrTargetLacks = errors.New("target: the target lacks what the scenario needs")

// Lack is one thing a target cannot do that a scenario needs.
type Lack struct {
	// Feature names it: "accounts", "Regions", "multi-Region keys", "key
	// states", "cross-account key use", "operation RotateKeyOnDemand", ...
	Feature string
	// NeededBy lists the scenario parts that need it ("key prod-key",
	// "workload orders-api", "event disable-key at 20s on key k").
	NeededBy []string
	// Evidence is what the probe saw.
	Evidence string
}

// TargetError reports everything a target lacks for a scenario. It wraps
// ErrTargetLacks.
type TargetError struct {
	// Endpoint is the probed URL; Server is what Identify found ("" when
	// unknown).
	Endpoint, Server string
	// Scenario is the scenario's name.
	Scenario string
	// Lacks is one entry per missing feature, in the order found.
	Lacks []Lack
}

// Error lists each missing feature on its own line.
func (e *TargetError) Error() string {
	var b strings.Builder
	name := "target"
	if e.Server != "" {
		name = e.Server
	}
	fmt.Fprintf(&b, "target: %s at %s cannot run scenario %q; it lacks:", name, e.Endpoint, e.Scenario)
	for _, l := range e.Lacks {
		fmt.Fprintf(&b, "\n  - %s (needed by %s): %s", l.Feature, strings.Join(l.NeededBy, ", "), l.Evidence)
	}
	if h := serverHint(e.Server, e.Lacks); h != "" {
		b.WriteString("\n  ")
		b.WriteString(h)
	}
	return b.String()
}

// Unwrap returns ErrTargetLacks.
func (e *TargetError) Unwrap() error { return ErrTargetLacks }

// serverHint says how the known server maps the missing features, if it
// can help.
func serverHint(server string, lacks []Lack) string {
	has := func(f string) bool {
		for _, l := range lacks {
			if l.Feature == f {
				return true
			}
		}
		return false
	}
	switch server {
	case ServerLocalKMS:
		if has("accounts") || has("Regions") {
			return "local-kms serves one account and one Region per process (KMS_ACCOUNT_ID, KMS_REGION): " +
				"start it with the scenario's account and Region, or use a target with several accounts (moto, LocalStack, kmsload emulator)"
		}
	case ServerMoto:
		var hints []string
		if has("cross-account key use") {
			hints = append(hints, "moto keeps one key store per account, so no account can use another's key")
		}
		if has("key states") {
			hints = append(hints, "moto does not enforce key states")
		}
		if len(hints) > 0 {
			return strings.Join(hints, "; ") + "; the kmsload emulator (--target embedded) does both"
		}
	}
	return ""
}

// Identify names the KMS server behind endpoint by the endpoints it
// serves besides KMS: ServerKmsload (/_kmsload/health), ServerLocalStack
// (/_localstack/health), ServerMoto (/moto-api/), ServerLocalKMS (its
// answer to an operation it does not know), or "" when none of them
// answers. It sends only GET requests and one request for an unknown KMS
// operation.
func Identify(ctx context.Context, hc *http.Client, endpoint string) string {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := strings.TrimRight(endpoint, "/")
	get := func(path string) (int, []byte) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, nil
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, b
	}
	if code, _ := get("/_kmsload/health"); code == http.StatusOK {
		return ServerKmsload
	}
	if code, b := get("/_localstack/health"); code == http.StatusOK && json.Valid(b) {
		return ServerLocalStack
	}
	if code, b := get("/moto-api/"); code == http.StatusOK && strings.Contains(strings.ToLower(string(b)), "moto") {
		return ServerMoto
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", strings.NewReader("{}"))
	if err != nil {
		return ""
	}
	req.Header.Set("X-Amz-Target", "TrentService.KmsloadIdentify")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode == http.StatusNotImplemented && strings.Contains(string(b), "Passed X-Amz-Target") {
		return ServerLocalKMS
	}
	return ""
}

// APIOptions returns the stack changes server needs for a client signing
// as account: moto's account header.
func APIOptions(server, account string) []func(*middleware.Stack) error {
	if server == ServerMoto {
		return []func(*middleware.Stack) error{smithyhttp.SetHeaderValue(MotoAccountHeader, account)}
	}
	return nil
}
