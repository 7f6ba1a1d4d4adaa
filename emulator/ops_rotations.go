package emulator

import "time"

type listRotationsIn struct {
	KeyId              string
	IncludeKeyMaterial string
	Limit              *int
	Marker             string
}

// rotationEntry is KMS's RotationsListEntry.
type rotationEntry struct {
	KeyId            string
	KeyMaterialId    string
	KeyMaterialState string
	RotationDate     *epoch `json:",omitempty"`
	RotationType     string `json:",omitempty"`
}

type listRotationsOut struct {
	Rotations []rotationEntry
	pageOut
}

// opListKeyRotations lists the completed rotations of a symmetric key
// (with IncludeKeyMaterial ALL_KEY_MATERIAL also its first material),
// oldest first; the newest material is CURRENT, the others NON_CURRENT.
func opListKeyRotations(c *call, in *listRotationsIn, k *key) (any, *apiError) {
	first := 1
	switch in.IncludeKeyMaterial {
	case "", "ROTATIONS_ONLY":
	case "ALL_KEY_MATERIAL":
		first = 0
	default:
		return nil, errEnum("includeKeyMaterial", in.IncludeKeyMaterial)
	}
	if k.spec != specSymmetric || k.customKeyStore != "" {
		return nil, kerr("UnsupportedOperationException", "%s does not support key rotation", k.arn)
	}
	var all []rotationEntry
	vs := k.mat.versions
	for i := first; i < len(vs); i++ {
		e := rotationEntry{KeyId: k.id, KeyMaterialId: vs[i].ID, KeyMaterialState: "NON_CURRENT"}
		if i == len(vs)-1 {
			e.KeyMaterialState = "CURRENT"
		}
		if i > 0 {
			e.RotationDate, e.RotationType = epochPtr(vs[i].At), vs[i].Kind
		}
		all = append(all, e)
	}
	list, p, e := page(all, in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	if list == nil {
		list = []rotationEntry{}
	}
	return listRotationsOut{Rotations: list, pageOut: p}, nil
}

// currentMaterialID is the key material id of k's current symmetric
// material, "" for keys without one (asymmetric, HMAC, pending import).
func (k *key) currentMaterialID(now time.Time) string {
	if k.spec != specSymmetric || len(k.mat.versions) == 0 || k.stateAt(now) == statePendingImport {
		return ""
	}
	return k.mat.versions[len(k.mat.versions)-1].ID
}
