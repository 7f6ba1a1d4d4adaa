package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kmsload/kmsload/quota"
)

// adminPrefix is the path prefix of the admin endpoints.
const adminPrefix = "/_kmsload/"

// adminError is the JSON body of a failed admin request.
type adminError struct {
	Error string `json:"error"`
}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// clockOut is the answer of the clock endpoint.
type clockOut struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// serveAdmin serves:
//
//	GET  /_kmsload/health  -> {"status":"ok"}
//	GET  /_kmsload/stats   -> JSON array of quota.BucketStats ([] when quotas are off)
//	POST /_kmsload/reset   -> forgets keys, aliases, grants and quota counters
//	POST /_kmsload/clock   -> {"advance":"720h"} or ?advance=720h moves the clock forward;
//	                          GET returns the emulator time
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, adminPrefix)
	switch name {
	case "health":
		writeAdmin(w, http.StatusOK, map[string]string{"status": "ok"})
	case "stats":
		stats := []quota.BucketStats{}
		if m := s.quota.Load(); m != nil {
			if st := m.Stats(s.Now()); st != nil {
				stats = st
			}
		}
		writeAdmin(w, http.StatusOK, stats)
	case "reset":
		if r.Method != http.MethodPost {
			writeAdmin(w, http.StatusMethodNotAllowed, adminError{"reset needs POST"})
			return
		}
		s.Reset()
		writeAdmin(w, http.StatusOK, map[string]string{"status": "reset"})
	case "clock":
		if r.Method == http.MethodPost {
			adv := r.URL.Query().Get("advance")
			if adv == "" {
				var in struct {
					Advance string `json:"advance"`
				}
				b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
				if err == nil && len(b) > 0 {
					err = json.Unmarshal(b, &in)
				}
				if err != nil {
					writeAdmin(w, http.StatusBadRequest, adminError{"clock: body must be {\"advance\":\"<duration>\"}"})
					return
				}
				adv = in.Advance
			}
			d, err := time.ParseDuration(adv)
			if err != nil || d < 0 {
				writeAdmin(w, http.StatusBadRequest, adminError{"clock: advance must be a non-negative Go duration such as 720h"})
				return
			}
			s.Advance(d)
		}
		writeAdmin(w, http.StatusOK, clockOut{Now: s.Now(), Offset: time.Duration(s.offset.Load()).String()})
	default:
		writeAdmin(w, http.StatusNotFound, adminError{"unknown admin endpoint " + r.URL.Path})
	}
}

// Reset forgets every key, alias, grant and quota counter, as
// POST /_kmsload/reset does. The clock offset is kept.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newStore()
	s.mu.Unlock()
	s.proxySpecs.Range(func(k, _ any) bool { s.proxySpecs.Delete(k); return true })
	if m := s.quota.Load(); m != nil {
		m.Reset()
	}
}
