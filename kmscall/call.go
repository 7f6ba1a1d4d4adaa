// Package kmscall is how kmsload speaks to KMS through aws-sdk-go-v2: a
// resolved workload's operation bound to a client and a key reference,
// the ciphertexts, MACs and signatures those operations draw, the key
// policies and grants provisioning sets, the pace of unmeasured calls, and
// the classification of what an attempt returned. The driver, the target
// probe and the guard share it, so each of these is written once.
package kmscall

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/scenario"
)

// NeedsPool reports whether op draws from a Pool prepared before the
// measured window (Decrypt, ReEncrypt, VerifyMac, Verify).
func NeedsPool(op string) bool {
	switch op {
	case "Decrypt", "ReEncrypt", "VerifyMac", "Verify":
		return true
	}
	return false
}

// KeyARN returns the ARN of key id owned by account in region.
func KeyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// AliasARN returns the ARN of alias ("alias/name") owned by account in region.
func AliasARN(region, account, alias string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + alias
}

// KeyRef returns how a request of w in region names w's key, whose id is
// id, in w's key_ref form: multi-Region replicas keep the key id, so only
// the Region changes.
func KeyRef(w *scenario.ResolvedWorkload, region, id string) string {
	switch w.KeyRef {
	case scenario.KeyRefARN:
		return KeyARN(region, w.Owner.ID, id)
	case scenario.KeyRefAlias:
		return w.Key.Alias
	case scenario.KeyRefAliasARN:
		return AliasARN(region, w.Owner.ID, w.Key.Alias)
	}
	return id
}

// Pool holds items prepared before the measured window; draws go round
// robin and are safe for concurrent use.
type Pool struct {
	// Items are drawn in order, then again from the first.
	Items []Item
	next  atomic.Uint64
}

// Item is one ciphertext, or one message with its MAC or signature.
type Item struct {
	// Message is the plaintext message of a MAC or signature.
	Message []byte
	// Blob is the ciphertext, MAC or signature.
	Blob []byte
}

func (p *Pool) draw() Item {
	n := p.next.Add(1) - 1
	return p.Items[n%uint64(len(p.Items))]
}

// Call is one request of a workload: the operation with its arguments,
// bound to a client and a key reference.
type Call func(ctx context.Context) error

// New binds w's operation to client and key reference ref. payload is the
// plaintext or message of the workload; p is its pool (nil when the
// operation needs none).
func New(w *scenario.ResolvedWorkload, client *kms.Client, ref string, payload []byte, p *Pool) Call {
	spec := w.Key.Spec
	ec := EncryptionContext(w)
	keyID := aws.String(ref)
	switch w.Spec.Operation {
	case "Encrypt":
		return func(ctx context.Context) error {
			_, err := client.Encrypt(ctx, &kms.EncryptInput{
				KeyId: keyID, Plaintext: payload, EncryptionContext: ec,
				EncryptionAlgorithm: EncryptionAlgorithm(spec),
			})
			return err
		}
	case "Decrypt":
		return func(ctx context.Context) error {
			_, err := client.Decrypt(ctx, &kms.DecryptInput{
				KeyId: keyID, CiphertextBlob: p.draw().Blob, EncryptionContext: ec,
				EncryptionAlgorithm: EncryptionAlgorithm(spec),
			})
			return err
		}
	case "ReEncrypt":
		return func(ctx context.Context) error {
			alg := EncryptionAlgorithm(spec)
			_, err := client.ReEncrypt(ctx, &kms.ReEncryptInput{
				CiphertextBlob: p.draw().Blob, SourceKeyId: keyID, DestinationKeyId: keyID,
				SourceEncryptionContext: ec, DestinationEncryptionContext: ec,
				SourceEncryptionAlgorithm: alg, DestinationEncryptionAlgorithm: alg,
			})
			return err
		}
	case "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateRandom":
		return dataKeyCall(w, client, keyID, ec)
	case "GenerateDataKeyPair":
		in := &kms.GenerateDataKeyPairInput{KeyId: keyID, EncryptionContext: ec, KeyPairSpec: types.DataKeyPairSpec(w.KeyPairSpec)}
		return bound(client, bind((*kms.Client).GenerateDataKeyPair, in))
	case "GenerateDataKeyPairWithoutPlaintext":
		in := &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: keyID, EncryptionContext: ec, KeyPairSpec: types.DataKeyPairSpec(w.KeyPairSpec)}
		return bound(client, bind((*kms.Client).GenerateDataKeyPairWithoutPlaintext, in))
	}
	return macSignCall(w, client, keyID, payload, p)
}

// bound binds call to client.
func bound(client *kms.Client, call func(context.Context, *kms.Client) error) Call {
	return func(ctx context.Context) error { return call(ctx, client) }
}

// dataKeyCall binds GenerateDataKey, GenerateDataKeyWithoutPlaintext and
// GenerateRandom: the default payload asks for an AES-256 key by KeySpec,
// any other size by NumberOfBytes.
func dataKeyCall(w *scenario.ResolvedWorkload, client *kms.Client, keyID *string, ec map[string]string) Call {
	var spec types.DataKeySpec
	var n *int32
	if w.PayloadBytes == scenario.DefaultPayloadBytes {
		spec = types.DataKeySpecAes256
	} else {
		n = aws.Int32(int32(w.PayloadBytes))
	}
	switch w.Spec.Operation {
	case "GenerateDataKey":
		in := &kms.GenerateDataKeyInput{KeyId: keyID, EncryptionContext: ec, KeySpec: spec, NumberOfBytes: n}
		return func(ctx context.Context) error {
			_, err := client.GenerateDataKey(ctx, in)
			return err
		}
	case "GenerateDataKeyWithoutPlaintext":
		in := &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: keyID, EncryptionContext: ec, KeySpec: spec, NumberOfBytes: n}
		return func(ctx context.Context) error {
			_, err := client.GenerateDataKeyWithoutPlaintext(ctx, in)
			return err
		}
	}
	in := &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(int32(w.PayloadBytes))}
	return func(ctx context.Context) error {
		_, err := client.GenerateRandom(ctx, in)
		return err
	}
}

// macSignCall binds GenerateMac, VerifyMac, Sign, Verify and DescribeKey.
func macSignCall(w *scenario.ResolvedWorkload, client *kms.Client, keyID *string, payload []byte, p *Pool) Call {
	spec := w.Key.Spec
	switch w.Spec.Operation {
	case "GenerateMac":
		return func(ctx context.Context) error {
			_, err := client.GenerateMac(ctx, &kms.GenerateMacInput{
				KeyId: keyID, Message: payload, MacAlgorithm: MacAlgorithm(spec),
			})
			return err
		}
	case "VerifyMac":
		return func(ctx context.Context) error {
			it := p.draw()
			_, err := client.VerifyMac(ctx, &kms.VerifyMacInput{
				KeyId: keyID, Message: it.Message, Mac: it.Blob, MacAlgorithm: MacAlgorithm(spec),
			})
			return err
		}
	case "Sign":
		return func(ctx context.Context) error {
			_, err := client.Sign(ctx, &kms.SignInput{
				KeyId: keyID, Message: payload, MessageType: types.MessageTypeRaw,
				SigningAlgorithm: SigningAlgorithm(spec),
			})
			return err
		}
	case "Verify":
		return func(ctx context.Context) error {
			it := p.draw()
			_, err := client.Verify(ctx, &kms.VerifyInput{
				KeyId: keyID, Message: it.Message, Signature: it.Blob, MessageType: types.MessageTypeRaw,
				SigningAlgorithm: SigningAlgorithm(spec),
			})
			return err
		}
	}
	return func(ctx context.Context) error { // DescribeKey
		_, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: keyID})
		return err
	}
}
