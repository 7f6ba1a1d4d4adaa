package kmscall

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/scenario"
)

// MakeItem is the call that makes one Item of w's pool on key id (the
// key's owner makes it, in the key's Region): Encrypt for Decrypt and
// ReEncrypt, GenerateMac for VerifyMac, Sign for Verify. op names the
// operation it calls, for pacing and messages; msg is the item's
// plaintext or message.
func MakeItem(w *scenario.ResolvedWorkload, id string, msg []byte) (op string, do func(context.Context, *kms.Client) (Item, error)) {
	spec := w.Key.Spec
	keyID := aws.String(id)
	switch w.Spec.Operation {
	case "VerifyMac":
		return "GenerateMac", func(ctx context.Context, c *kms.Client) (Item, error) {
			out, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: keyID, Message: msg, MacAlgorithm: MacAlgorithm(spec)})
			if err != nil {
				return Item{}, err
			}
			return Item{Message: msg, Blob: out.Mac}, nil
		}
	case "Verify":
		return "Sign", func(ctx context.Context, c *kms.Client) (Item, error) {
			out, err := c.Sign(ctx, &kms.SignInput{
				KeyId: keyID, Message: msg, MessageType: types.MessageTypeRaw, SigningAlgorithm: SigningAlgorithm(spec),
			})
			if err != nil {
				return Item{}, err
			}
			return Item{Message: msg, Blob: out.Signature}, nil
		}
	}
	ec := EncryptionContext(w)
	return "Encrypt", func(ctx context.Context, c *kms.Client) (Item, error) { // Decrypt, ReEncrypt
		out, err := c.Encrypt(ctx, &kms.EncryptInput{
			KeyId: keyID, Plaintext: msg, EncryptionContext: ec, EncryptionAlgorithm: EncryptionAlgorithm(spec),
		})
		if err != nil {
			return Item{}, err
		}
		return Item{Message: msg, Blob: out.CiphertextBlob}, nil
	}
}
