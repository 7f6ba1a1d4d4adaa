package scenario

import (
	"fmt"
	"time"
)

// Scenario is one parsed and validated scenario file: accounts, keys, the
// workloads that use them and the events that happen during the run. It is
// data only; the driver replays it.
type Scenario struct {
	// File is the path the scenario was loaded from ("" when built in code).
	File string
	// Name identifies the scenario in reports.
	Name string
	// Description states the claim the scenario tests.
	Description string
	// Region is the default Region of keys and callers.
	Region string
	// Scale multiplies quotas and workload rates together, so a laptop
	// reproduces the utilisation of a full-size Region. 1 means real size.
	Scale float64
	// Duration is the length of the measured window.
	Duration time.Duration
	// Seed makes Poisson arrivals and payloads repeatable.
	Seed int64
	// ErrorBudget is the share of a workload's arrivals (0 to 1) that may
	// fail other than by throttling (any error but ThrottlingException,
	// plus dropped arrivals) before the run's verdict fails (exit 99).
	// Failures a workload expects (ExpectedFailures, or those a lifecycle
	// event causes) do not count against it. Default 1%.
	ErrorBudget float64
	// Quotas selects how the embedded emulator models request quotas.
	Quotas Quotas
	// Accounts maps a scenario account name to its account.
	Accounts map[string]Account
	// Keys maps a scenario key name to its key.
	Keys map[string]Key
	// Workloads in the order the file lists them.
	Workloads []Workload
	// Events in the order of their time.
	Events []Event
	// Thresholds maps a workload name (or "all") to threshold expressions
	// such as "p99 < 50ms". Evaluated by report/.
	Thresholds map[string][]string
	// Client is the run-wide default of every workload's SDK client
	// settings (the top-level client: block); a workload's own Client
	// wins field by field.
	Client Client
	// Trace is the trace file the file's trace: field names, as written
	// (relative to the scenario file's directory): the recorded traffic
	// that workloads with arrival: trace replay ("" = none).
	Trace string
	// Recording is the trace read from that file (nil without one).
	Recording *Trace
	// Variants are the client settings `kmsload study` tries, one run per
	// combination of their values; `kmsload run` ignores them.
	Variants []Variant

	// sha256 is the hex SHA-256 of the bytes the scenario was parsed from.
	sha256 string
	// pos maps each field path the file wrote to its position (nil for a
	// scenario built in code); see Pos.
	pos map[string]position
}

// Quotas selects the quota model applied by the embedded emulator.
type Quotas struct {
	// Mode is "aws" (the AWS defaults, the default), "off", or a path to a
	// quota override file.
	Mode string
	// Algorithm is "fixed-window" (default) or "token-bucket".
	Algorithm string
}

// Account is an AWS account taking part in the scenario.
type Account struct {
	// Name is the scenario's name for the account (the map key).
	Name string
	// ID is the 12-digit AWS account id.
	ID string
	// RoleARN is assumed through STS for --target aws ("" = default chain).
	RoleARN string
}

// Key is a KMS key the scenario creates (or names) before the run.
type Key struct {
	// Name is the scenario's name for the key (the map key).
	Name string
	// Account is the scenario account name that owns the key.
	Account string
	// Region is where the key (its primary, for multi-Region keys) lives.
	Region string
	// Alias is an alias name such as "alias/prod" ("" = none). An
	// AWS-managed key has the alias alias/aws/<service>, and only such a
	// key may use the alias/aws/ prefix.
	Alias string
	// ManagedBy is ManagedByCustomer (the default: the run creates the
	// key) or ManagedByAWS: the AWS-managed key of a service (aws/s3,
	// aws/ebs, ...) in the owner account, which KMS creates on first use
	// and whose policy, state and rotation only AWS controls. It shares
	// the owner account's request quota like any other key, has no
	// monthly fee, and only its own account can use it.
	ManagedBy string
	// Spec is the KMS KeySpec, e.g. SYMMETRIC_DEFAULT, RSA_2048,
	// ECC_NIST_P256, HMAC_256.
	Spec string
	// Usage is the KMS KeyUsage: ENCRYPT_DECRYPT, SIGN_VERIFY or
	// GENERATE_VERIFY_MAC. Defaults from Spec.
	Usage string
	// MultiRegion creates a multi-Region primary key (mrk- id).
	MultiRegion bool
	// Replicas lists Regions that get a replica of a multi-Region key.
	Replicas []string
	// CustomKeyStore names the custom key store holding the key ("" = none).
	CustomKeyStore string
	// CustomKeyStoreType is that store's type: StoreCloudHSM (the default
	// of a key in a store) or StoreExternal. It decides the requests'
	// weight in the store's quota.
	CustomKeyStoreType string
	// XksKeyID is the external key (its id at the external key store
	// proxy) backing a key in an external key store, as CreateKey's
	// XksKeyId. It defaults to a stand-in that serves on emulators; real
	// KMS needs the id of an existing external key.
	XksKeyID string
	// Rotation enables automatic rotation.
	Rotation bool
	// ARN is the existing key this scenario key stands for, such as the
	// key a recorded trail used (`kmsload import`); "" = none. It is
	// informational: runs create their own key, and use a real one only
	// when told to (--target aws --use-existing-key NAME=ARN).
	ARN string
	// AllowAccounts lists scenario account names (other than the owner)
	// that the key policy lets use the key. When empty, every account with
	// a workload on the key is allowed.
	AllowAccounts []string
	// GrantAccounts lists scenario account names (other than the owner)
	// that use the key through a grant (CreateGrant to the account's root
	// principal) instead of the key policy. Grants survive put-key-policy
	// events, as in KMS.
	GrantAccounts []string
}

// Who manages a key (Key.ManagedBy).
const (
	ManagedByCustomer = "customer"
	ManagedByAWS      = "aws"
)

// AWSManaged reports whether k is an AWS-managed key.
func (k Key) AWSManaged() bool { return k.ManagedBy == ManagedByAWS }

// Arrival kinds.
const (
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
	ArrivalPhases   = "phases"
	// ArrivalTrace replays the recorded per-second counts of the
	// scenario's trace file (Workload.Series).
	ArrivalTrace = "trace"
)

// Retry modes.
const (
	RetryStandard = "sdk-standard"
	RetryNone     = "none"
	RetryAdaptive = "adaptive"
)

// Key reference forms: how a workload names its key in each request.
const (
	KeyRefID       = "id"        // key id (same account only)
	KeyRefARN      = "arn"       // key ARN
	KeyRefAlias    = "alias"     // alias name (same account only)
	KeyRefAliasARN = "alias-arn" // alias ARN
)

// Workload is one stream of requests from one caller to one key.
type Workload struct {
	// Name identifies the workload (the map key in the file).
	Name string
	// Caller is the scenario account name whose credentials sign requests.
	Caller string
	// Key is the scenario key name the workload uses ("" for GenerateRandom).
	Key string
	// KeyRef is how requests name the key: id, arn, alias or alias-arn.
	// Default: id in the owner account, arn cross-account.
	KeyRef string
	// Region the requests are sent to. Default: the key's Region.
	Region string
	// Operation is the KMS API called, e.g. GenerateDataKey.
	Operation string
	// Rate is the intended arrival rate at real size, before Scale.
	Rate Rate
	// Arrival is constant, poisson, phases or trace.
	Arrival string
	// Phases shape the rate over time when Arrival is phases.
	Phases []Phase
	// Series is the recorded traffic a trace workload replays: the
	// series of the workload's name in the scenario's trace file, read
	// once by Parse (nil for other arrivals).
	Series *Series
	// MaxInFlight bounds concurrent requests; arrivals that find it full are
	// counted as dropped.
	MaxInFlight int
	// Retry is the workload's retry: field, the older spelling of
	// Client.Retry: sdk-standard (or standard), none or adaptive; "" when
	// the file does not give it. Parse copies it into Client.Retry.
	Retry string
	// MaxAttempts is the workload's max_attempts: field, the older
	// spelling of Client.MaxAttempts (0 = not given).
	MaxAttempts int
	// Client configures the workload's SDK client: retry mode, attempts,
	// backoff, retry token bucket, and sharing the client with other
	// workloads. Fields left unset take the scenario's Client, then the
	// SDK's environment (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS), then the
	// SDK's defaults.
	Client Client
	// PayloadBytes is the plaintext size for Encrypt and the data key size
	// for GenerateDataKey / GenerateRandom when not 32.
	PayloadBytes int
	// KeyPairSpec is the data key pair spec of GenerateDataKeyPair and
	// GenerateDataKeyPairWithoutPlaintext workloads (RSA_2048,
	// ECC_NIST_P256, ...; "" = DefaultKeyPairSpec); other operations take
	// none.
	KeyPairSpec string
	// EncryptionContext is sent with every request that takes one.
	EncryptionContext map[string]string
	// DataKeyCache models client-side data-key caching (nil = none).
	DataKeyCache *DataKeyCache
	// Team names who owns the workload (at most MaxTeamLen characters,
	// no control characters; "" = not said). Reports show it beside the workload, so
	// that a verdict about the workload reaches the people who must act.
	Team string
	// Via names an AWS service acting for the caller (s3, ebs, ...);
	// informational.
	Via string
	// ExpectedFailures lists the failures the workload is expected to
	// meet from the start of the run: error codes such as
	// AccessDeniedException, or failure classes such as access-denied or
	// dropped (package failure). They are reported but do not count
	// against ErrorBudget.
	ExpectedFailures []string
}

// Phase is one segment of a phases arrival process. A phase with From
// unset starts from the previous phase's end rate.
type Phase struct {
	// Duration of the phase.
	Duration time.Duration
	// From is the rate at the start of a ramp; nil = previous end rate
	// (0 for the first phase).
	From *Rate
	// To is the rate at the end of the phase (equal to the start for a
	// hold or step).
	To Rate
}

// DataKeyCache models the AWS Encryption SDK's caching materials manager:
// a data key is reused until it is MaxAge old or used MaxUses times.
type DataKeyCache struct {
	// MaxAge is how long a cached data key may be used.
	MaxAge time.Duration
	// MaxUses is how many messages a cached data key may protect
	// (0 = no limit).
	MaxUses int
}

// Event actions.
const (
	ActionDisableKey     = "disable-key"
	ActionEnableKey      = "enable-key"
	ActionScheduleDelete = "schedule-deletion"
	ActionCancelDeletion = "cancel-deletion"
	ActionRotate         = "rotate"
	ActionPutKeyPolicy   = "put-key-policy"
	ActionShiftTraffic   = "shift-traffic"
)

// Event is a key lifecycle change or traffic shift at a set time.
type Event struct {
	// At is the offset from the start of the measured window.
	At time.Duration
	// Action is one of the Action* constants.
	Action string
	// Key is the scenario key the event acts on (key actions).
	Key string
	// AllowAccounts is the new list of accounts allowed by the key policy
	// (put-key-policy); the owner account is always allowed.
	AllowAccounts []string
	// Workload is the workload whose traffic moves (shift-traffic).
	Workload string
	// ToRegion is where shift-traffic sends the workload's requests.
	ToRegion string
	// PendingWindowDays is the ScheduleKeyDeletion window (7-30).
	PendingWindowDays int
}

// Rate is a request rate in requests per second.
type Rate float64

// PerSecond returns the rate as requests per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// String formats the rate as "N/s".
func (r Rate) String() string { return fmt.Sprintf("%g/s", float64(r)) }

// KeyAccount returns the account that owns key k.
func (s *Scenario) KeyAccount(k string) Account { return s.Accounts[s.Keys[k].Account] }

// CallerAccount returns the account a workload calls from.
func (s *Scenario) CallerAccount(w Workload) Account { return s.Accounts[w.Caller] }
