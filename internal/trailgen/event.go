package trailgen

import (
	"strconv"
	"strings"
)

// keyAccount is the account of a key ARN ("" for none).
func keyAccount(arn string) string {
	f := strings.Split(arn, ":")
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// event is the record of one attempt of actor a, as delivered to the
// trail of account recipient (shared: the sharedEventID of a call logged
// in two accounts).
func (g *gen) event(a actor, at attempt, throttled bool, recipient, shared string) []byte {
	b := g.buf[:0]
	session := a.role + "-" + strconv.Itoa(int(g.rng.IntN(4)))
	b = append(b, `{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE`...)
	b = append(b, strings.ToUpper(a.role[:2])...)
	b = append(b, ':')
	b = append(b, session...)
	b = append(b, `","arn":"arn:aws:sts::`...)
	b = append(b, a.account...)
	b = append(b, `:assumed-role/`...)
	b = append(b, a.role...)
	b = append(b, '/')
	b = append(b, session...)
	b = append(b, `","accountId":"`...)
	b = append(b, a.account...)
	b = append(b, `","accessKeyId":"ASIAEXAMPLE`...)
	b = append(b, strings.ToUpper(a.role[:3])...)
	b = append(b, '"')
	if a.invokedBy != "" {
		b = append(b, `,"invokedBy":"`...)
		b = append(b, a.invokedBy...)
		b = append(b, '"')
	}
	b = append(b, `},"eventTime":"`...)
	b = g.c.Start.Add(at.at).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","eventSource":"kms.amazonaws.com","eventName":"`...)
	b = append(b, a.op...)
	b = append(b, `","awsRegion":"`+Region+`","sourceIPAddress":"`...)
	if a.invokedBy != "" {
		b = append(b, a.invokedBy...)
	} else {
		b = append(b, "10.0."...)
		b = strconv.AppendInt(b, int64(len(a.role)), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(10+at.actor), 10)
	}
	b = append(b, `","userAgent":"aws-sdk-go-v2/1.48.0","requestParameters":`...)
	b = g.params(b, a)
	if throttled {
		b = append(b, `,"errorCode":"ThrottlingException","errorMessage":"Rate exceeded"`...)
	} else if a.errorCode != "" {
		b = append(b, `,"errorCode":"`+a.errorCode+`","errorMessage":"User is not authorized to perform: kms:`...)
		b = append(b, a.op...)
		b = append(b, '"')
	}
	b = append(b, `,"responseElements":null,"requestID":"`...)
	b = append(b, g.uuid()...)
	b = append(b, `","eventID":"`...)
	b = append(b, g.uuid()...)
	b = append(b, `","readOnly":true`...)
	if a.key != "" && !throttled {
		b = append(b, `,"resources":[{"accountId":"`...)
		b = append(b, keyAccount(a.key)...)
		b = append(b, `","type":"AWS::KMS::Key","ARN":"`...)
		b = append(b, a.key...)
		b = append(b, `"}]`...)
	}
	b = append(b, `,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"`...)
	b = append(b, recipient...)
	b = append(b, '"')
	if shared != "" {
		b = append(b, `,"sharedEventID":"`...)
		b = append(b, shared...)
		b = append(b, '"')
	}
	b = append(b, `,"eventCategory":"Management"}`...)
	g.buf = b
	return b
}

// params are the requestParameters of a's calls, as the Developer
// Guide's examples show them for each operation. A throttled call's
// record names the key only as the caller named it.
func (g *gen) params(b []byte, a actor) []byte {
	switch a.op {
	case "Decrypt":
		b = append(b, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"Department":"`...)
		b = append(b, a.role...)
		b = append(b, `"}`...)
		if keyAccount(a.key) != a.account {
			b = append(b, `,"keyId":"`+a.key+`"`...)
		}
		return append(b, '}')
	case "Encrypt":
		return append(b, `{"keyId":"`+a.key+`","encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"Department":"payments"}}`...)
	case "GenerateDataKey":
		b = append(b, `{"keyId":"alias/ingest-data","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::ingest-bucket/object-`...)
		b = strconv.AppendUint(b, g.rng.Uint64()%1000, 10)
		return append(b, `"}}`...)
	case "Sign", "Verify":
		return append(b, `{"keyId":"alias/code-signing","messageType":"DIGEST","signingAlgorithm":"RSASSA_PSS_SHA_256"}`...)
	case "DescribeKey":
		return append(b, `{"keyId":"alias/orders"}`...)
	case "CreateGrant":
		return append(b, `{"keyId":"`+a.key+`","granteePrincipal":"arn:aws:iam::111122223333:role/ingest","operations":["Decrypt"]}`...)
	}
	return append(b, `null`...)
}

// s3Event is the PutObject that made S3 call KMS for a.
func (g *gen) s3Event(a actor, at attempt) []byte {
	b := append(g.buf[:0], `{"eventVersion":"1.10","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::`+a.account+`:assumed-role/`...)
	b = append(b, a.role...)
	b = append(b, `/upload","accountId":"`+a.account+`"},"eventTime":"`...)
	b = g.c.Start.Add(at.at).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, `","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"`+Region+`","sourceIPAddress":"10.0.9.9","requestParameters":{"bucketName":"ingest-bucket"},"eventID":"`...)
	b = append(b, g.uuid()...)
	b = append(b, `","recipientAccountId":"`+a.account+`"}`...)
	g.buf = b
	return b
}
