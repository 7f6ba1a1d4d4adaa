package emulator

type listRotationsIn struct {
	KeyId              string
	IncludeKeyMaterial string
	Limit              *int
	Marker             string
}

// rotationEntry is KMS's RotationsListEntry.
type rotationEntry struct {
	KeyId                  string
	KeyMaterialId          string
	KeyMaterialDescription string `json:",omitempty"`
	KeyMaterialState       string
	ImportState            string `json:",omitempty"`
	ExpirationModel        string `json:",omitempty"`
	ValidTo                *epoch `json:",omitempty"`
	RotationDate           *epoch `json:",omitempty"`
	RotationType           string `json:",omitempty"`
}

type listRotationsOut struct {
	Rotations []rotationEntry
	pageOut
}

// opListKeyRotations lists the completed rotations of a symmetric key
// (with IncludeKeyMaterial ALL_KEY_MATERIAL also its first material and
// any imported material pending rotation), oldest first; the newest
// material is CURRENT, the others NON_CURRENT. Keys of imported material
// also say of each whether it is imported, and until when.
func opListKeyRotations(c *call, in *listRotationsIn, k *key) (any, *apiError) {
	all := false
	switch in.IncludeKeyMaterial {
	case "", "ROTATIONS_ONLY":
	case "ALL_KEY_MATERIAL":
		all = true
	default:
		return nil, errEnum("includeKeyMaterial", in.IncludeKeyMaterial)
	}
	if k.spec != specSymmetric || k.customKeyStore != "" {
		return nil, kerr("UnsupportedOperationException", "%s does not support key rotation", k.arn)
	}
	list, p, e := page(c.rotations(k, all), in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	if list == nil {
		list = []rotationEntry{}
	}
	return listRotationsOut{Rotations: list, pageOut: p}, nil
}

// rotations are k's ListKeyRotations entries, the first material and the
// one pending rotation only with all.
func (c *call) rotations(k *key, all bool) []rotationEntry {
	var out []rotationEntry
	vs := k.mat.versions
	for i := range vs {
		e := rotationEntry{KeyId: k.id, KeyMaterialId: vs[i].ID, KeyMaterialState: materialNonCurrent}
		if i == len(vs)-1 {
			e.KeyMaterialState = materialCurrent
		}
		if i > 0 {
			e.RotationDate, e.RotationType = epochPtr(vs[i].At), vs[i].Kind
		}
		if k.origin == originExternal {
			e.describeImport(k.heldMaterial(i))
		}
		if i > 0 || all {
			out = append(out, e)
		}
	}
	if all && k.imp != nil && k.imp.next != nil {
		e := rotationEntry{KeyId: k.id, KeyMaterialId: k.imp.next.id, KeyMaterialState: c.nextState(k)}
		e.describeImport(*k.imp.next)
		out = append(out, e)
	}
	return out
}

// heldMaterial is what k holds of its group's material i (read only: the
// caller may hold just the read lock).
func (k *key) heldMaterial(i int) keyMaterial {
	if k.imp != nil && i < len(k.imp.mats) {
		return k.imp.mats[i]
	}
	return keyMaterial{id: k.mat.versions[i].ID}
}

// describeImport adds what k holds of imported material m to e.
func (e *rotationEntry) describeImport(m keyMaterial) {
	e.KeyMaterialDescription, e.ImportState = m.description, "PENDING_IMPORT"
	if m.imported() {
		e.ImportState, e.ExpirationModel, e.ValidTo = "IMPORTED", m.model, epochPtr(m.validTo)
	}
}

// currentMaterialID is the key material id of k's current symmetric
// material: for keys of AWS_KMS or EXTERNAL origin that have one ("" for
// asymmetric and HMAC keys, keys in custom key stores and keys still
// waiting for their first material).
func (k *key) currentMaterialID() string {
	switch {
	case k.spec != specSymmetric || k.customKeyStore != "":
		return ""
	case k.origin == originExternal:
		if k.imp == nil || len(k.imp.mats) == 0 {
			return ""
		}
		return k.imp.mats[len(k.imp.mats)-1].id
	case len(k.mat.versions) == 0:
		return ""
	}
	return k.mat.versions[len(k.mat.versions)-1].ID
}
