// Package importer turns an organisation's recorded KMS traffic (the
// events package trail reads) into a scenario and the trace it replays.
// Calls are grouped into workloads by caller account × principal ×
// operation × key × Region (or coarser); each workload replays its
// recorded per-second counts (arrival: trace). Identities are scrubbed
// by default: principals and encryption contexts become pseudonyms, and
// user names, access key ids and source IPs are never written.
//
// An Importer takes events one at a time (Add), so a day of logs never
// sits in memory: it keeps, per group, the counts of each second.
package importer

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/trail"
)

// Groupings: what tells two workloads apart.
const (
	// GroupPrincipal (the default): caller account × principal (role,
	// user, service) × operation × key × Region.
	GroupPrincipal = "principal"
	// GroupService: caller account × the AWS service that made the
	// calls for the caller (invokedBy; "direct" for calls principals made
	// themselves) × operation × key × Region.
	GroupService = "service"
	// GroupAccount: caller account × operation × key × Region.
	GroupAccount = "account"
)

// Groupings lists the groupings Options.Group takes.
var Groupings = []string{GroupPrincipal, GroupService, GroupAccount}

// What the trace replays (Options.Throttled): a trail holds attempts -
// the calls KMS served, and the ThrottlingException events of attempts
// it throttled, retries among them - not the requests callers made.
const (
	// ThrottledEstimate (the default) replays the requests the callers
	// made, estimated from the attempts: with a share p of a workload's
	// attempts throttled around a second (five seconds centred on it),
	// an SDK making up to m attempts (Options.MaxAttempts) turns r
	// requests into r(1+p+...+p^(m-1)) attempts, so r = attempts(1-p)/
	// (1-p^m). Without throttling it is the calls as recorded. Replayed
	// with the SDK's retries, the requests make the attempts again.
	ThrottledEstimate = "estimate"
	// ThrottledServed replays the calls KMS served (and failed other than
	// by throttling): where KMS throttled, less than the callers asked.
	ThrottledServed = "served"
	// ThrottledReplay replays every recorded attempt, throttled ones and
	// retries included, and turns the replaying SDK's retries off
	// (client: {retry: none}): the replay sends the attempts the trail
	// recorded.
	ThrottledReplay = "replay"
)

// DefaultMaxAttempts is the SDK's standard retry mode's: the attempts the
// estimate assumes callers made when Options.MaxAttempts is 0.
const DefaultMaxAttempts = 3

// ErrOptions is wrapped by errors for options that cannot be used.
var ErrOptions = errors.New("importer: invalid options")

// Options shape an import.
type Options struct {
	// From and To bound the window read ([From, To)); zero = open.
	From, To time.Time
	// Group is one of Groupings ("" = GroupPrincipal).
	Group string
	// Compress puts Compress recorded seconds into one replayed second
	// (rates rise Compress times); 0 or 1 = real time.
	Compress int
	// KeepIdentities writes principals and encryption contexts as
	// recorded instead of as pseudonyms.
	KeepIdentities bool
	// ScrubKey keys the pseudonyms: the same key gives the same
	// pseudonyms in every import. nil = a random key, so pseudonyms
	// cannot be guessed from names and differ between imports.
	ScrubKey []byte
	// Throttled is ThrottledEstimate (""), ThrottledServed or
	// ThrottledReplay.
	Throttled string
	// MaxAttempts is the attempts per request the callers' SDK made, for
	// ThrottledEstimate; 0 = DefaultMaxAttempts.
	MaxAttempts int
}

// Importer accumulates events into workloads. It is not safe for
// concurrent use.
type Importer struct {
	opts   Options
	scrub  scrubber
	groups map[groupKey]*group
	keys   map[string]*keyInfo // by key ARN
	refs   map[refKey]string   // keyId as called -> key ARN
	sum    Summary
	first  int64 // first and last second seen in the window
	last   int64
	usage  bool // usage metrics were read: no principals, no keys
}

// New checks opts and returns an Importer.
func New(opts Options) (*Importer, error) {
	if opts.Group == "" {
		opts.Group = GroupPrincipal
	}
	switch {
	case opts.Group != GroupPrincipal && opts.Group != GroupService && opts.Group != GroupAccount:
		return nil, fmt.Errorf("%w: unknown grouping %q (want principal, service or account)", ErrOptions, opts.Group)
	case opts.Compress < 0:
		return nil, fmt.Errorf("%w: compress %d is below 1", ErrOptions, opts.Compress)
	case opts.Throttled != "" && opts.Throttled != ThrottledEstimate && opts.Throttled != ThrottledServed && opts.Throttled != ThrottledReplay:
		return nil, fmt.Errorf("%w: unknown throttled mode %q (want estimate, served or replay)", ErrOptions, opts.Throttled)
	case opts.MaxAttempts < 0:
		return nil, fmt.Errorf("%w: max attempts %d is below 1", ErrOptions, opts.MaxAttempts)
	case !opts.From.IsZero() && !opts.To.IsZero() && !opts.From.Before(opts.To):
		return nil, fmt.Errorf("%w: the window's start %s is not before its end %s", ErrOptions, opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339))
	}
	opts.Compress = max(opts.Compress, 1)
	opts.Throttled = cmp.Or(opts.Throttled, ThrottledEstimate)
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	key := opts.ScrubKey
	if key == nil {
		key = make([]byte, 32)
		rand.Read(key)
	}
	return &Importer{
		opts:   opts,
		scrub:  scrubber{key: key, keep: opts.KeepIdentities},
		groups: map[groupKey]*group{},
		keys:   map[string]*keyInfo{},
		refs:   map[refKey]string{},
		sum:    Summary{NotReplayed: map[string]int64{}},
		first:  -1,
	}, nil
}

// Add takes one KMS event (the callback of trail.Read).
func (im *Importer) Add(e trail.Event) error {
	im.sum.Events++
	if (!im.opts.From.IsZero() && e.Time.Before(im.opts.From)) || (!im.opts.To.IsZero() && !e.Time.Before(im.opts.To)) {
		im.sum.OutsideWindow++
		return nil
	}
	op := e.Name
	if !scenario.IsOperation(op) {
		im.sum.NotReplayed[op]++
		return nil
	}
	im.sum.InWindow++
	sec := e.Time.Unix()
	if im.first < 0 || sec < im.first {
		im.first = sec
	}
	im.last = max(im.last, sec)
	arn := keyUsed(e)
	if arn != "" {
		im.noteKey(arn, e)
	}
	g := im.group(e, op, arn, ownerCopy(e))
	if e.Throttled() {
		im.sum.Throttled++
		g.throttled.add(sec)
		g.totalThrottled++
		return nil
	}
	g.calls.add(sec)
	g.total++
	if e.ErrorCode != "" && !e.Throttled() {
		g.errors[e.ErrorCode]++
	}
	return nil
}

// ownerCopy reports whether e is the copy of a call delivered to an
// account other than the caller's (the key owner's, for a cross-account
// call; it has a sharedEventID).
func ownerCopy(e trail.Event) bool {
	return e.SharedEventID != "" && e.RecipientAccountID != "" && e.RecipientAccountID != e.CallerAccount()
}

// Summary reports what Add saw so far.
func (im *Importer) Summary() Summary { return im.sum }

// Summary counts what an import read and wrote.
type Summary struct {
	// Events is every KMS event Add was given; OutsideWindow of them
	// fell outside the window, InWindow were data-plane calls in it.
	Events, OutsideWindow, InWindow int64
	// NotReplayed counts the calls in the window that a workload cannot
	// make (management APIs such as CreateGrant), by event name.
	NotReplayed map[string]int64
	// Duplicates counts second copies of one call: a cross-account call
	// is logged in the caller's and the key owner's account with one
	// sharedEventID; the owner's copy is counted only when the caller's
	// trail is not in the input.
	Duplicates int64
	// Throttled counts the ThrottlingException events in the window.
	Throttled int64
	// UnresolvedKey counts calls whose record named no key that could be
	// told, given to the key their caller used most for the operation
	// (or a stand-in key of the caller's account).
	UnresolvedKey int64
	// Dropped lists workloads left out of the scenario, and why.
	Dropped []string
}
