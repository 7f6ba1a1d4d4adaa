package kmstest

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
)

// faultBody is KMS's answer to an internal error.
const faultBody = `{"__type":"KMSInternalException","message":"An internal error has occurred. Retry the request."}`

// faultIDs numbers the request ids of injected faults.
var faultIDs atomic.Int64

// SetFault makes share (0..1) of the requests of operation op (a KMS API
// name such as "Decrypt") fail with KMSInternalException (HTTP 500, which
// the SDK retries), drawn at random per request; 0 stops the fault. A
// faulted request is answered before the emulator sees it: it changes no
// key, is charged to no quota bucket, and is counted by [Server.Requests].
// Shares of 0 and 1 make tests exact; [Server.FailNext] fails an exact
// number of requests.
func (s *Server) SetFault(op string, share float64) error {
	if err := checkFault(op, share); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if share == 0 {
		delete(s.faults, op)
	} else {
		s.faults[op] = share
	}
	return nil
}

// FailNext makes the next n requests of operation op fail with
// KMSInternalException (HTTP 500), as [Server.SetFault] describes, before
// any share set by SetFault applies. With the SDK's default retryer (3
// attempts), FailNext(op, 2) makes the next call succeed on its third
// attempt and FailNext(op, 3) makes it fail. n <= 0 cancels pending
// failures of op.
func (s *Server) FailNext(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.failNext, op)
		return
	}
	s.failNext[op] = n
}

// fault counts a request of op and reports whether it is to fail.
func (s *Server) fault(op string) bool {
	s.mu.Lock()
	s.requests[op]++
	if n := s.failNext[op]; n > 0 {
		if n == 1 {
			delete(s.failNext, op)
		} else {
			s.failNext[op] = n - 1
		}
		s.mu.Unlock()
		return true
	}
	p := s.faults[op]
	s.mu.Unlock()
	return p >= 1 || (p > 0 && rand.Float64() < p)
}

// writeFault answers with KMSInternalException as KMS does.
func writeFault(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("x-amzn-RequestId", "kmstest-fault-"+strconv.FormatInt(faultIDs.Add(1), 10))
	h.Set("Content-Length", strconv.Itoa(len(faultBody)))
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(faultBody))
}
