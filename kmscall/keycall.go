package kmscall

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/scenario"
)

// Key management operations KeyCall makes.
const (
	OpDisableKey          = "DisableKey"
	OpEnableKey           = "EnableKey"
	OpScheduleKeyDeletion = "ScheduleKeyDeletion"
	OpCancelKeyDeletion   = "CancelKeyDeletion"
	OpRotateKeyOnDemand   = "RotateKeyOnDemand"
	OpPutKeyPolicy        = "PutKeyPolicy"
)

// CleanupWindowDays is the waiting period of every deletion kmsload
// schedules of a key it created: the shortest KMS allows.
const CleanupWindowDays = 7

// EventOp is the operation of a key event's action ("" for shift-traffic
// and unknown actions).
func EventOp(action string) string {
	return map[string]string{
		scenario.ActionDisableKey:     OpDisableKey,
		scenario.ActionEnableKey:      OpEnableKey,
		scenario.ActionScheduleDelete: OpScheduleKeyDeletion,
		scenario.ActionCancelDeletion: OpCancelKeyDeletion,
		scenario.ActionRotate:         OpRotateKeyOnDemand,
		scenario.ActionPutKeyPolicy:   OpPutKeyPolicy,
	}[action]
}

// KeyCall returns the call of key management operation op on key id:
// DisableKey, EnableKey, CancelKeyDeletion, RotateKeyOnDemand,
// ScheduleKeyDeletion with a waiting period of days (0: KMS's default of
// 30), or PutKeyPolicy of policy (the "default" policy). nil for any
// other op.
func KeyCall(op, id string, days int, policy string) func(context.Context, *kms.Client) error {
	keyID := aws.String(id)
	switch op {
	case OpDisableKey:
		return bind((*kms.Client).DisableKey, &kms.DisableKeyInput{KeyId: keyID})
	case OpEnableKey:
		return bind((*kms.Client).EnableKey, &kms.EnableKeyInput{KeyId: keyID})
	case OpScheduleKeyDeletion:
		in := &kms.ScheduleKeyDeletionInput{KeyId: keyID}
		if days > 0 {
			in.PendingWindowInDays = aws.Int32(int32(days))
		}
		return bind((*kms.Client).ScheduleKeyDeletion, in)
	case OpCancelKeyDeletion:
		return bind((*kms.Client).CancelKeyDeletion, &kms.CancelKeyDeletionInput{KeyId: keyID})
	case OpRotateKeyOnDemand:
		return bind((*kms.Client).RotateKeyOnDemand, &kms.RotateKeyOnDemandInput{KeyId: keyID})
	case OpPutKeyPolicy:
		return bind((*kms.Client).PutKeyPolicy, &kms.PutKeyPolicyInput{KeyId: keyID, PolicyName: aws.String("default"), Policy: aws.String(policy)})
	}
	return nil
}

// bind returns the call of client method m with input in, its output
// dropped.
func bind[In, Out any](m func(*kms.Client, context.Context, *In, ...func(*kms.Options)) (*Out, error), in *In) func(context.Context, *kms.Client) error {
	return func(ctx context.Context, c *kms.Client) error {
		_, err := m(c, ctx, in)
		return err
	}
}
