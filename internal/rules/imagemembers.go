package rules

import (
	"fmt"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Image sharing, as Glance has it: a shared image's members (Image.spec.members, the
// owner's) see it, whatever they answered; it is listed for them, and they may boot from it,
// once they accept (an ImageMember in their own namespace). A community image is seen by
// every tenant and listed only when asked for (or by its owner). Every way in asks these.

// ImageMembership is tenant's membership of img, or nil: only a shared image has members.
func ImageMembership(img *computev1.Image, tenant string) *computev1.ImageMembership {
	if img.Spec.Visibility != computev1.ImageShared || img.Namespace == tenant {
		return nil
	}
	for i := range img.Spec.Members {
		if img.Spec.Members[i].Project == tenant {
			return &img.Spec.Members[i]
		}
	}
	return nil
}

// AnswerFor says whether answer is the answer to img (named by its id, for its namespace).
func AnswerFor(answer *computev1.ImageMember, img *computev1.Image) bool {
	return answer != nil && answer.Name == string(img.UID) && answer.Spec.ImageNamespace == img.Namespace &&
		answer.DeletionTimestamp.IsZero()
}

// ImageMemberStatus is tenant's status as a member of img given its answer (nil: none):
// "" when it is not a member, pending until it answers.
func ImageMemberStatus(img *computev1.Image, tenant string, answer *computev1.ImageMember) computev1.ImageMemberStatus {
	if ImageMembership(img, tenant) == nil {
		return ""
	}
	if AnswerFor(answer, img) && answer.Spec.Status != "" {
		return answer.Spec.Status
	}
	return computev1.ImageMemberPending
}

// ImageUsable says whether tenant may boot from img, given its answer to it (nil: none):
// its own images, public and community ones, and shared ones it accepted.
func ImageUsable(img *computev1.Image, tenant string, answer *computev1.ImageMember) bool {
	switch {
	case img.Namespace == tenant, img.Spec.Visibility == computev1.ImagePublic, img.Spec.Visibility == computev1.ImageCommunity:
		return true
	}
	return ImageMemberStatus(img, tenant, answer) == computev1.ImageMemberAccepted
}

// ImageRef is how a server of tenant names img in Server.spec.imageRef: by its name when it
// is the tenant's or public (looked up in that order, as ever), else namespace/name (an
// image another tenant shares with it, or a community one).
func ImageRef(img *computev1.Image, tenant, public string) string {
	if img.Namespace == tenant || img.Namespace == public {
		return img.Name
	}
	return img.Namespace + "/" + img.Name
}

// SplitImageRef reads Server.spec.imageRef: namespace/name names an image of another tenant
// (ns is then that namespace), a plain name the tenant's or a public one (ns "").
func SplitImageRef(ref string) (ns, name string) {
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	return "", ref
}

// ImageNotAcceptedError refuses booting from an image shared with the tenant that it has
// not accepted (Glance's list shows it only once accepted).
type ImageNotAcceptedError struct{ ID, Tenant string }

func (e *ImageNotAcceptedError) Error() string {
	return fmt.Sprintf("Image %s is shared with project %s, which has not accepted it: accept it first "+
		"(PUT /image/v2/images/%s/members/%s with {\"status\": \"accepted\"}, or an ImageMember with status accepted).",
		e.ID, e.Tenant, e.ID, e.Tenant)
}
