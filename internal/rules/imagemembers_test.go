package rules

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func sharedImage(visibility string, members ...string) *computev1.Image {
	img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: "owner", Name: "img", UID: "uid-1"},
		Spec: computev1.ImageSpec{Visibility: visibility}}
	for _, m := range members {
		img.Spec.Members = append(img.Spec.Members, computev1.ImageMembership{Project: m})
	}
	return img
}

func answer(ns, name, imageNS string, st computev1.ImageMemberStatus) *computev1.ImageMember {
	return &computev1.ImageMember{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: computev1.ImageMemberSpec{ImageNamespace: imageNS, Status: st}}
}

func TestImageSharing(t *testing.T) {
	accepted := answer("b", "uid-1", "owner", computev1.ImageMemberAccepted)
	for _, c := range []struct {
		name    string
		img     *computev1.Image
		tenant  string
		answer  *computev1.ImageMember
		visible bool
		status  computev1.ImageMemberStatus
		usable  bool
	}{
		{"owner", sharedImage("shared", "b"), "owner", nil, true, "", true},
		{"member, no answer", sharedImage("shared", "b"), "b", nil, true, computev1.ImageMemberPending, false},
		{"member, accepted", sharedImage("shared", "b"), "b", accepted, true, computev1.ImageMemberAccepted, true},
		{"member, rejected", sharedImage("shared", "b"), "b", answer("b", "uid-1", "owner", computev1.ImageMemberRejected), true, computev1.ImageMemberRejected, false},
		{"answer to another image", sharedImage("shared", "b"), "b", answer("b", "uid-2", "owner", computev1.ImageMemberAccepted), true, computev1.ImageMemberPending, false},
		{"not a member", sharedImage("shared", "b"), "c", nil, false, "", false},
		{"members of a private image count for nothing", sharedImage("private", "b"), "b", accepted, false, "", false},
		{"community", sharedImage("community"), "c", nil, true, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ImageVisible(c.img, c.tenant); got != c.visible {
				t.Errorf("visible %v", got)
			}
			if got := ImageMemberStatus(c.img, c.tenant, c.answer); got != c.status {
				t.Errorf("status %q", got)
			}
			if got := ImageUsable(c.img, c.tenant, c.answer); got != c.usable {
				t.Errorf("usable %v", got)
			}
		})
	}
}

func TestImageRefs(t *testing.T) {
	img := sharedImage("shared", "b")
	if got := ImageRef(img, "owner", "kova-public"); got != "img" {
		t.Errorf("owner's ref %q", got)
	}
	if got := ImageRef(img, "b", "kova-public"); got != "owner/img" {
		t.Errorf("member's ref %q", got)
	}
	if ns, name := SplitImageRef("owner/img"); ns != "owner" || name != "img" {
		t.Errorf("split %q %q", ns, name)
	}
	if ns, name := SplitImageRef("img"); ns != "" || name != "img" {
		t.Errorf("split %q %q", ns, name)
	}
	if ImageUsers(img, "kova-public") != "" || ImageUsers(sharedImage("private"), "kova-public") != "owner" {
		t.Error("ImageUsers")
	}
	// A member's server building from the shared image keeps it from being deleted.
	srv := computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "s", UID: "srv-1"},
		Spec: computev1.ServerSpec{ImageRef: "owner/img"}}
	if err := CheckImageDelete(img, []computev1.Server{srv}, "kova-public"); err == nil {
		t.Error("deleting a shared image a member builds from")
	}
	srv.Spec.ImageRef = "img" // b's own image of that name
	if err := CheckImageDelete(img, []computev1.Server{srv}, "kova-public"); err != nil {
		t.Errorf("another image's server counted: %v", err)
	}
}
