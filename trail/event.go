// Package trail reads an organisation's recorded KMS traffic: CloudTrail
// log files as delivered to S3 ({"Records": [...]}, plain or gzipped, in
// a directory tree, in any order) and CloudTrail Lake or Athena exports
// written as JSON lines or CSV. It streams: a file is read record by record, so
// a day of logs never sits in memory, and a bad record is counted with its
// file and index instead of aborting the read. Events of other services
// are counted and skipped. It is the first step of `kmsload import
// cloudtrail`, which turns the events into a scenario and a trace.
package trail

import (
	"strings"
	"time"
)

// KMSSource is the eventSource of KMS's events.
const KMSSource = "kms.amazonaws.com"

// Identity is a CloudTrail record's userIdentity: who made the call.
type Identity struct {
	Type        string `json:"type"` // IAMUser, AssumedRole, AWSService, Root, ...
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName"`
	// InvokedBy names the AWS service that made the call for the caller
	// (s3.amazonaws.com for SSE-KMS); such calls count against the
	// calling account's quota.
	InvokedBy string `json:"invokedBy"`
}

// Resource is one of a record's resources; for KMS, the key.
type Resource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// Params are the request parameters kmsload uses.
type Params struct {
	KeyID             string            `json:"keyId"`
	KeySpec           string            `json:"keySpec"`
	KeyPairSpec       string            `json:"keyPairSpec"`
	NumberOfBytes     int               `json:"numberOfBytes"`
	EncryptionContext map[string]string `json:"encryptionContext"`
	// EncryptionAlgorithm (Encrypt, Decrypt), SigningAlgorithm (Sign,
	// Verify) and MacAlgorithm (GenerateMac, VerifyMac) hint at the key's
	// spec.
	EncryptionAlgorithm string `json:"encryptionAlgorithm"`
	SigningAlgorithm    string `json:"signingAlgorithm"`
	MacAlgorithm        string `json:"macAlgorithm"`
	// DestinationKeyID is ReEncrypt's destination key; its resources name
	// the source key first, then the destination.
	DestinationKeyID string `json:"destinationKeyId"`
}

// Event is one CloudTrail record, with the fields kmsload uses.
type Event struct {
	Time               time.Time  `json:"eventTime"`
	Source             string     `json:"eventSource"`
	Name               string     `json:"eventName"`
	Region             string     `json:"awsRegion"`
	SourceIP           string     `json:"sourceIPAddress"`
	UserAgent          string     `json:"userAgent"`
	Identity           Identity   `json:"userIdentity"`
	Params             *Params    `json:"requestParameters"`
	Resources          []Resource `json:"resources"`
	RecipientAccountID string     `json:"recipientAccountId"`
	// SharedEventID is the same in the copies of one call delivered to
	// several accounts (a cross-account call is logged in the caller's
	// and the key owner's); "" for a call logged once.
	SharedEventID string `json:"sharedEventID"`
	ErrorCode     string `json:"errorCode"`
	ErrorMessage  string `json:"errorMessage"`
}

// IsKMS reports whether e is a KMS API call.
func (e Event) IsKMS() bool { return e.Source == KMSSource }

// KeyARN is the ARN of the key the call used: its KMS key resource, else
// the keyId parameter when that is a key ARN; "" when neither says.
func (e Event) KeyARN() string {
	for _, r := range e.Resources {
		if r.Type == "AWS::KMS::Key" || strings.Contains(r.ARN, ":key/") {
			return r.ARN
		}
	}
	if e.Params != nil && strings.HasPrefix(e.Params.KeyID, "arn:") && strings.Contains(e.Params.KeyID, ":key/") {
		return e.Params.KeyID
	}
	return ""
}

// CallerAccount is the account whose quota the call counts against: the
// caller's (userIdentity.accountId), else the recipient's.
func (e Event) CallerAccount() string {
	if e.Identity.AccountID != "" {
		return e.Identity.AccountID
	}
	return e.RecipientAccountID
}

// KeyAccount is the account that owns the key the call used (from its
// ARN), "" when the record names no key.
func (e Event) KeyAccount() string {
	f := strings.SplitN(e.KeyARN(), ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// CrossAccount reports whether the caller used a key of another account.
func (e Event) CrossAccount() bool {
	k := e.KeyAccount()
	return k != "" && e.CallerAccount() != "" && k != e.CallerAccount()
}

// Throttled reports whether KMS throttled the call.
func (e Event) Throttled() bool { return e.ErrorCode == "ThrottlingException" }
