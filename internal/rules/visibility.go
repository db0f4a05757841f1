package rules

import (
	"fmt"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// DefaultPublicNamespace is the namespace of the public images and shared networks every
// tenant sees, unless --public-namespace names another.
const DefaultPublicNamespace = "kova-public"

// VisibleNamespaces are where a tenant's images and networks may be, in the order they are
// looked in: its own namespace, then the public one.
func VisibleNamespaces(tenant, public string) []string {
	if public == "" || tenant == public {
		return []string{tenant}
	}
	return []string{tenant, public}
}

// ImageVisible says whether tenant sees img (Glance's is_image_visible): its own images,
// public and community ones elsewhere, and shared ones it is a member of, whatever it answered.
func ImageVisible(img *computev1.Image, tenant string) bool {
	return img.Namespace == tenant || img.Spec.Visibility == computev1.ImagePublic || img.Spec.Visibility == computev1.ImageCommunity ||
		ImageMembership(img, tenant) != nil
}

// NetworkVisible says whether tenant sees net: its own networks, and shared ones elsewhere.
func NetworkVisible(net *computev1.Network, tenant string) bool {
	return net.Namespace == tenant || net.Spec.Shared
}

// MsgKeypairQuota is Nova's 403 past a user's key_pairs quota (KeypairLimitExceeded).
const MsgKeypairQuota = "Quota exceeded, too many key pairs."

// KeypairOwnedBy says whether a keypair is user's. One with no owner recorded (made without
// the admission webhook) belongs to the whole tenant; an empty user asks for any owner.
func KeypairOwnedBy(kp *computev1.Keypair, user string) bool {
	return user == "" || kp.Spec.UserID == "" || kp.Spec.UserID == user
}

// UserKeypairs are user's keypairs among a tenant's, one per Nova name: of two with one name
// (a race past the webhook's check) the older, then the first by object name, so that every
// reader (REST, the webhook, the controller) picks the same one and the other is never used.
// Keypairs being deleted are left out.
func UserKeypairs(kps []computev1.Keypair, user string) []*computev1.Keypair {
	byName := map[string]*computev1.Keypair{}
	var names []string
	for i := range kps {
		kp := &kps[i]
		if !KeypairOwnedBy(kp, user) || !kp.DeletionTimestamp.IsZero() {
			continue
		}
		n := kp.NovaName()
		cur, ok := byName[n]
		if !ok {
			names = append(names, n)
		}
		if !ok || olderKeypair(kp, cur) {
			byName[n] = kp
		}
	}
	out := make([]*computev1.Keypair, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

// UserKeypair is user's keypair named name (its Nova name), or nil.
func UserKeypair(kps []computev1.Keypair, user, name string) *computev1.Keypair {
	for _, kp := range UserKeypairs(kps, user) {
		if kp.NovaName() == name {
			return kp
		}
	}
	return nil
}

func olderKeypair(a, b *computev1.Keypair) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// InvalidError is a reference that exists but cannot be used, in Nova's words.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }

// FitsImage is Nova's check of a flavor against an image's minimums, with Nova's messages.
func FitsImage(f *computev1.Flavor, img *computev1.Image) error {
	if img.Spec.MinRAM > f.Spec.RAM {
		return &InvalidError{"Flavor's memory is too small for requested image."}
	}
	if f.Spec.Disk > 0 && img.Spec.MinDisk > f.Spec.Disk {
		return &InvalidError{fmt.Sprintf("Flavor's disk is smaller than the minimum size specified in image metadata. "+
			"Flavor disk is %d bytes, minimum size is %d bytes.", f.Spec.Disk<<30, img.Spec.MinDisk<<30)}
	}
	return nil
}
