package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is the version of the state file format.
const stateVersion = 1

// stateFile is the JSON form of the emulator's keys, material, aliases,
// grants, tags and policies.
type stateFile struct {
	Version   int             `json:"version"`
	Materials []stateMaterial `json:"materials"`
	Keys      []stateKey      `json:"keys"`
	Aliases   []stateAlias    `json:"aliases"`
}

type stateMaterial struct {
	Spec      string   `json:"spec"`
	Symmetric [][]byte `json:"symmetric,omitempty"`
	// Versions records each symmetric version's key material id and
	// rotation (absent in older state files: ids are made afresh).
	Versions      []materialVersion `json:"versions,omitempty"`
	Mac           []byte            `json:"mac,omitempty"`
	PrivateKey    []byte            `json:"private_key,omitempty"` // PKCS#8 DER
	PrimaryRegion string            `json:"primary_region,omitempty"`
	Regions       []string          `json:"regions,omitempty"`
	// Next is imported material pending on-demand rotation, NextID its
	// key material id.
	Next   []byte `json:"next,omitempty"`
	NextID string `json:"next_id,omitempty"`
}

// stateKeyMaterial is what a key of origin EXTERNAL holds of one of its
// materials.
type stateKeyMaterial struct {
	ID              string    `json:"id"`
	Description     string    `json:"description,omitempty"`
	ExpirationModel string    `json:"expiration_model,omitempty"` // "": not imported
	ValidTo         time.Time `json:"valid_to,omitzero"`
}

func toStateMaterial(m keyMaterial) stateKeyMaterial {
	return stateKeyMaterial{ID: m.id, Description: m.description, ExpirationModel: m.model, ValidTo: m.validTo}
}

func (m stateKeyMaterial) keyMaterial() keyMaterial {
	return keyMaterial{id: m.ID, description: m.Description, model: m.ExpirationModel, validTo: m.ValidTo}
}

type stateKey struct {
	ID               string    `json:"id"`
	Account          string    `json:"account"`
	Region           string    `json:"region"`
	Spec             string    `json:"spec"`
	Usage            string    `json:"usage"`
	Origin           string    `json:"origin"`
	Description      string    `json:"description,omitempty"`
	Created          time.Time `json:"created"`
	State            string    `json:"state"`
	DeletionDate     time.Time `json:"deletion_date,omitzero"`
	PendingDays      int       `json:"pending_days,omitempty"`
	Material         int       `json:"material"`
	Policy           string    `json:"policy,omitempty"`
	Tags             []tag     `json:"tags,omitempty"`
	Rotation         bool      `json:"rotation,omitempty"`
	RotationDays     int       `json:"rotation_days,omitempty"`
	OnDemandRotation time.Time `json:"on_demand_rotation,omitzero"`
	NextRotation     time.Time `json:"next_rotation,omitzero"`
	CustomKeyStore   string    `json:"custom_key_store,omitempty"`
	Grants           []grant   `json:"grants,omitempty"`
	AWSManaged       bool      `json:"aws_managed,omitempty"`
	XksKeyID         string    `json:"xks_key_id,omitempty"`
	// Materials and NextMaterial are what a key of origin EXTERNAL holds
	// of its materials (associated, and pending rotation). Import tokens
	// are not kept.
	Materials    []stateKeyMaterial `json:"imported_materials,omitempty"`
	NextMaterial *stateKeyMaterial  `json:"next_material,omitempty"`
	// Older files kept one imported material: its bytes, until when it
	// was valid and its expiration model. They are read, not written.
	ImportedMaterial []byte    `json:"imported_material,omitempty"`
	ValidTo          time.Time `json:"valid_to,omitzero"`
	ExpirationModel  string    `json:"expiration_model,omitempty"`
}

// importedOf is the import record of k as state key sk has it (older
// files: one material, whose id is the first version's).
func importedOf(k *key, sk stateKey) *imported {
	im := &imported{}
	for _, m := range sk.Materials {
		im.mats = append(im.mats, m.keyMaterial())
	}
	if sk.NextMaterial != nil {
		n := sk.NextMaterial.keyMaterial()
		im.next = &n
	}
	if len(sk.Materials) == 0 && sk.ImportedMaterial != nil {
		m := keyMaterial{id: materialID(k.id, sk.ImportedMaterial), model: sk.ExpirationModel, validTo: sk.ValidTo}
		if len(k.mat.versions) > 0 {
			m.id = k.mat.versions[0].ID
		}
		im.mats = []keyMaterial{m}
	}
	return im
}

type stateAlias struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Name    string    `json:"name"`
	KeyID   string    `json:"key_id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// SaveState writes every key (with its material), alias, grant, tag and
// policy to path as JSON. The file is written to a temporary file in the
// same directory and renamed into place, so readers never see half a file.
// It holds private key material: keep it private.
func (s *Server) SaveState(path string) error {
	s.mu.Lock()
	s.st.sweep(s.Now())
	f := stateFile{Version: stateVersion}
	mats := map[*material]int{}
	for loc, k := range s.st.keys {
		i, ok := mats[k.mat]
		if !ok {
			m := k.mat
			sm := stateMaterial{Spec: m.spec, Symmetric: m.sym, Versions: m.versions, Mac: m.mac, PrivateKey: m.privDER, Next: m.next, NextID: m.nextID}
			if m.group != nil {
				sm.PrimaryRegion = m.group.primaryRegion
				sm.Regions = m.group.regions
			}
			i = len(f.Materials)
			mats[m] = i
			f.Materials = append(f.Materials, sm)
		}
		sk := stateKey{
			ID: k.id, Account: loc.account, Region: loc.region, Spec: k.spec, Usage: k.usage,
			Origin: k.origin, Description: k.description, Created: k.created, State: k.state,
			DeletionDate: k.deletionDate, PendingDays: k.pendingDays, Material: i, Policy: k.policy,
			Tags: k.tags, Rotation: k.rotation, RotationDays: k.rotationDays,
			OnDemandRotation: k.onDemandRotation, NextRotation: k.nextRotation, CustomKeyStore: k.customKeyStore,
			AWSManaged: k.awsManaged, XksKeyID: k.xksKeyID,
		}
		if im := k.imp; im != nil {
			for _, m := range im.mats {
				sk.Materials = append(sk.Materials, toStateMaterial(m))
			}
			if im.next != nil {
				n := toStateMaterial(*im.next)
				sk.NextMaterial = &n
			}
		}
		for _, g := range k.grants {
			sk.Grants = append(sk.Grants, *g)
		}
		f.Keys = append(f.Keys, sk)
	}
	for loc, a := range s.st.aliases {
		f.Aliases = append(f.Aliases, stateAlias{Account: loc.account, Region: loc.region, Name: a.name, KeyID: a.keyID, Created: a.created, Updated: a.updated})
	}
	b, err := json.MarshalIndent(f, "", " ")
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kmsload-state-*")
	if err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	return nil
}

// ErrBadState is returned (wrapped) by LoadState for files that are not a
// valid state file.
var ErrBadState = errors.New("emulator: invalid state file")

// LoadState replaces the server's keys, aliases and grants with those in the
// file SaveState wrote. On error the current state is kept.
func (s *Server) LoadState(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("emulator: load state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if f.Version != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, f.Version, stateVersion)
	}
	st := newStore()
	mats := make([]*material, len(f.Materials))
	for i, sm := range f.Materials {
		if _, ok := specs[sm.Spec]; !ok {
			return fmt.Errorf("%w: material %d has key spec %q", ErrBadState, i, sm.Spec)
		}
		m := &material{spec: sm.Spec, mac: sm.Mac, privDER: sm.PrivateKey, next: sm.Next, nextID: sm.NextID}
		for _, v := range sm.Symmetric {
			if err := m.addVersion(v); err != nil {
				return fmt.Errorf("%w: material %d: %w", ErrBadState, i, err)
			}
		}
		if len(sm.Versions) == len(m.versions) {
			copy(m.versions, sm.Versions)
		}
		if specs[sm.Spec].macHash != nil && len(m.mac) < specs[sm.Spec].macLen {
			return fmt.Errorf("%w: material %d has a short HMAC secret", ErrBadState, i)
		}
		if sm.PrimaryRegion != "" {
			m.group = &mrkGroup{primaryRegion: sm.PrimaryRegion, regions: sm.Regions}
		}
		mats[i] = m
	}
	for _, sk := range f.Keys {
		if sk.Material < 0 || sk.Material >= len(mats) {
			return fmt.Errorf("%w: key %s names material %d", ErrBadState, sk.ID, sk.Material)
		}
		if !IsAccount(sk.Account) || sk.Region == "" || sk.ID == "" {
			return fmt.Errorf("%w: key %q has no valid location", ErrBadState, sk.ID)
		}
		pol, aerr := parseKeyPolicy(sk.Policy)
		if aerr != nil {
			return fmt.Errorf("%w: key %s: %s", ErrBadState, sk.ID, aerr.Message)
		}
		k := &key{
			id: sk.ID, account: sk.Account, region: sk.Region, arn: keyARN(sk.Region, sk.Account, sk.ID),
			spec: sk.Spec, usage: sk.Usage, origin: sk.Origin, description: sk.Description,
			created: sk.Created, state: sk.State, deletionDate: sk.DeletionDate, pendingDays: sk.PendingDays,
			mat: mats[sk.Material], policy: sk.Policy, pol: pol, tags: sk.Tags,
			rotation: sk.Rotation, rotationDays: sk.RotationDays, onDemandRotation: sk.OnDemandRotation, nextRotation: sk.NextRotation,
			customKeyStore: sk.CustomKeyStore, awsManaged: sk.AWSManaged, xksKeyID: sk.XksKeyID,
		}
		if sk.Origin == originExternal {
			k.imp = importedOf(k, sk)
		} else if k.spec == specSymmetric && (k.mat == nil || len(k.mat.sym) == 0) {
			return fmt.Errorf("%w: key %s has no symmetric versions", ErrBadState, sk.ID)
		}
		for _, g := range sk.Grants {
			g := g
			g.granteeAccountStr = accountOfPrincipal(g.Grantee)
			k.grants = append(k.grants, &g)
		}
		st.keys[keyLoc{k.account, k.region, k.id}] = k
	}
	for _, a := range f.Aliases {
		st.aliases[aliasLoc{a.Account, a.Region, a.Name}] = &alias{name: a.Name, keyID: a.KeyID, created: a.Created, updated: a.Updated}
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}
