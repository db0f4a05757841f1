package views

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

// Keypair is Nova's keypair (views/keypairs.py): in GET /os-keypairs (each entry
// {"keypair": ...}), GET /os-keypairs/{name} (Full) and POST's answer (Created).
//
//	2.1+   name, public_key, fingerprint; the full view adds user_id, created_at,
//	       deleted, deleted_at, updated_at, id; POST's answer user_id and, for a
//	       generated key, private_key
//	2.2+   type
type Keypair struct {
	Name        string      `json:"name"`
	PublicKey   string      `json:"public_key"`
	Fingerprint string      `json:"fingerprint"`
	Type        string      `json:"type,omitempty"`
	UserID      Opt[string] `json:"user_id,omitzero"`
	PrivateKey  string      `json:"private_key,omitempty"`
	*KeypairRecord
}

// KeypairRecord is the database record's fields that GET /os-keypairs/{name} shows.
type KeypairRecord struct {
	CreatedAt string      `json:"created_at"`
	Deleted   bool        `json:"deleted"`
	DeletedAt Opt[string] `json:"deleted_at"`
	UpdatedAt Opt[string] `json:"updated_at"`
	ID        int         `json:"id"`
}

// KeypairInput is what a keypair's view shows of what the handler reads from the
// Keypair: its name, public key, fingerprint and type as Nova has them.
type KeypairInput struct {
	Keypair                            *computev1.Keypair
	Name, PublicKey, Fingerprint, Type string
	ID                                 int
	Full                               bool
}

// NewKeypair lays out a keypair at v.
func NewKeypair(in KeypairInput, v microversion.Version) *Keypair {
	out := &Keypair{Name: in.Name, PublicKey: in.PublicKey, Fingerprint: in.Fingerprint}
	if v.AtLeast(2) {
		out.Type = in.Type
	}
	if in.Full {
		out.UserID = Some(in.Keypair.Spec.UserID)
		out.KeypairRecord = &KeypairRecord{
			CreatedAt: NaiveTime(in.Keypair.CreationTimestamp.Time),
			DeletedAt: Null[string](),
			UpdatedAt: Null[string](),
			ID:        in.ID,
		}
	}
	return out
}
