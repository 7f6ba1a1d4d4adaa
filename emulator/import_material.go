package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The key materials of keys of origin EXTERNAL. The bytes live in the
// key's shared material (one per multi-Region group); what each key (each
// Region) holds of them lives in its imported record: which materials it
// has imported, until when, and with which description. The first
// material imported is associated with the key for good; a symmetric key
// takes more with ImportType NEW_KEY_MATERIAL, each waiting as the
// group's next material until RotateKeyOnDemand makes it current. A
// replica can only import what its primary has.

// Key material states (ListKeyRotations).
const (
	materialCurrent           = "CURRENT"
	materialNonCurrent        = "NON_CURRENT"
	materialPendingRotation   = "PENDING_ROTATION"
	materialPendingMultiImpRt = "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"
)

// Import types (ImportKeyMaterial).
const (
	importNew      = "NEW_KEY_MATERIAL"
	importExisting = "EXISTING_KEY_MATERIAL"
)

// keyMaterial is one imported key material as one key holds it.
type keyMaterial struct {
	id          string    // key material id: from the key id and the material
	description string    // KeyMaterialDescription
	model       string    // expiration model; "" while not imported (deleted or expired)
	validTo     time.Time // zero: does not expire
}

// imported reports whether the key holds the material now.
func (m *keyMaterial) imported() bool { return m.model != "" }

// lapsed reports whether the material has expired by now.
func (m *keyMaterial) lapsed(now time.Time) bool {
	return m.imported() && !m.validTo.IsZero() && !now.Before(m.validTo)
}

// drop forgets the material (deleted or expired); it can be imported
// again.
func (m *keyMaterial) drop() { m.model, m.validTo = "", time.Time{} }

// imported is the import state of a key of origin EXTERNAL.
type imported struct {
	tokens map[string]importParams // import token -> parameters
	// mats are the materials associated with the key for good, oldest
	// first; a symmetric key's index is its version.
	mats []keyMaterial
	// next is the material imported for the next on-demand rotation (nil:
	// none); symmetric keys only.
	next *keyMaterial
}

// materialID is the key material id KMS derives from the key id and the
// material: 64 hex digits, the same in every Region of a multi-Region key.
func materialID(keyID string, b []byte) string {
	h := sha256.New()
	h.Write([]byte(keyID))
	h.Write([]byte{0})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// associated returns the bytes of the materials associated with m for
// good, oldest first.
func (m *material) associated() [][]byte {
	switch {
	case m.spec == specSymmetric:
		return m.sym
	case m.mac != nil:
		return [][]byte{m.mac}
	case m.privDER != nil:
		return [][]byte{m.privDER}
	}
	return nil
}

// indexOf returns the index of b among m's associated materials, -1 when
// it is none of them.
func (m *material) indexOf(b []byte) int {
	for i, a := range m.associated() {
		if bytes.Equal(a, b) {
			return i
		}
	}
	return -1
}

// importState returns k's import record, making it on first use.
func (k *key) importState() *imported {
	if k.imp == nil {
		k.imp = &imported{}
	}
	return k.imp
}

// syncMaterials extends k's record to every material its group has
// associated (a replica learns of its primary's materials as not yet
// imported).
func (k *key) syncMaterials() {
	im := k.importState()
	for i, b := range k.mat.associated()[len(im.mats):] {
		id := materialID(k.id, b)
		if k.spec == specSymmetric {
			id = k.mat.versions[len(im.mats)+i].ID
		}
		im.mats = append(im.mats, keyMaterial{id: id})
	}
}

// settle enables k once every material associated with it is imported
// (a key pending deletion stays as it is).
func (k *key) settle() {
	k.syncMaterials()
	if k.state != statePendingImport || len(k.imp.mats) == 0 {
		return
	}
	for _, m := range k.imp.mats {
		if !m.imported() {
			return
		}
	}
	k.state = stateEnabled
}

// isReplica reports whether k is a multi-Region replica.
func (k *key) isReplica() bool {
	return k.mat.group != nil && k.mat.group.primaryRegion != k.region
}

// stateAt is k's key state at now: PendingImport once imported material
// associated with it has expired (expire makes it so for good under the
// write lock).
func (k *key) stateAt(now time.Time) string {
	if im := k.imp; im != nil && k.state != statePendingDeletion {
		for i := range im.mats {
			if im.mats[i].lapsed(now) {
				return statePendingImport
			}
		}
	}
	return k.state
}

// expire applies the expiry of k's imported materials. The caller holds
// the write lock.
func (k *key) expire(now time.Time) {
	im := k.imp
	if im == nil {
		return
	}
	if k.stateAt(now) == statePendingImport && k.state != statePendingImport {
		k.state = statePendingImport
	}
	for i := range im.mats {
		if im.mats[i].lapsed(now) {
			im.mats[i].drop()
		}
	}
	if im.next != nil && im.next.lapsed(now) {
		im.next.drop()
	}
}

// expiry is what DescribeKey says of k's imported materials: the
// expiration model and the earliest ValidTo of those it holds ("" and
// zero when it holds none).
func (k *key) expiry() (model string, validTo time.Time) {
	if k.imp == nil {
		return "", time.Time{}
	}
	for _, m := range k.imp.mats {
		if !m.imported() {
			continue
		}
		if model == "" {
			model = materialDoesNotExpire
		}
		if !m.validTo.IsZero() && (validTo.IsZero() || m.validTo.Before(validTo)) {
			model, validTo = materialExpires, m.validTo
		}
	}
	return model, validTo
}

// group returns the keys of k's multi-Region group that exist (k alone
// when it is single-Region), primary first.
func (c *call) group(k *key) []*key {
	g := k.mat.group
	if g == nil {
		return []*key{k}
	}
	var out []*key
	for _, r := range g.regions {
		if kk := c.s.st.keys[keyLoc{k.account, r, k.id}]; kk != nil {
			out = append(out, kk)
		}
	}
	return out
}

// dropNext forgets the material pending rotation of k's group, in every
// Region.
func (c *call) dropNext(k *key) {
	for _, kk := range c.group(k) {
		kk.importState().next = nil
	}
	k.mat.next, k.mat.nextID = nil, ""
}

// nextState is the KeyMaterialState of k's material pending rotation:
// PENDING_ROTATION once every key of the group has imported it.
func (c *call) nextState(k *key) string {
	id := k.imp.next.id
	for _, kk := range c.group(k) {
		if kk.imp == nil || kk.imp.next == nil || kk.imp.next.id != id || !kk.imp.next.imported() {
			return materialPendingMultiImpRt
		}
	}
	return materialPendingRotation
}
