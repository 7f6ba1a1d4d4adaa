package kmscall

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/scenario"
)

// KeyPolicy returns a key policy allowing kms:* to the owner account's
// root and to the root of every account in allow.
func KeyPolicy(owner string, allow []string) string {
	type principal struct {
		AWS string `json:"AWS"`
	}
	type statement struct {
		Sid       string    `json:"Sid"`
		Effect    string    `json:"Effect"`
		Principal principal `json:"Principal"`
		Action    string    `json:"Action"`
		Resource  string    `json:"Resource"`
	}
	st := func(sid, account string) statement {
		return statement{sid, "Allow", principal{"arn:aws:iam::" + account + ":root"}, "kms:*", "*"}
	}
	doc := struct {
		Version   string      `json:"Version"`
		ID        string      `json:"Id"`
		Statement []statement `json:"Statement"`
	}{Version: "2012-10-17", ID: "kmsload"}
	doc.Statement = append(doc.Statement, st("EnableOwnerAccount", owner))
	for _, a := range allow {
		doc.Statement = append(doc.Statement, st("AllowAccount"+a, a))
	}
	b, _ := json.Marshal(doc) // cannot fail: plain strings
	return string(b)
}

// GrantOperations returns the grant operations that cover every workload
// operation a key of the given usage can serve.
func GrantOperations(usage string) []types.GrantOperation {
	switch usage {
	case scenario.UsageSignVerify:
		return []types.GrantOperation{types.GrantOperationSign, types.GrantOperationVerify,
			types.GrantOperationGetPublicKey, types.GrantOperationDescribeKey}
	case scenario.UsageGenerateVerifyMac:
		return []types.GrantOperation{types.GrantOperationGenerateMac, types.GrantOperationVerifyMac,
			types.GrantOperationDescribeKey}
	default:
		return []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt,
			types.GrantOperationReEncryptFrom, types.GrantOperationReEncryptTo,
			types.GrantOperationGenerateDataKey, types.GrantOperationGenerateDataKeyWithoutPlaintext,
			types.GrantOperationDescribeKey}
	}
}

// NewRunID returns a run id such as "20260102T150405Z-1a2b3c4d": the time
// a run (or a target probe) started and 32 random bits. The keys and
// grants it creates carry it.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
