package rules

import (
	"fmt"
	"sort"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// The image rules every way in keeps: Glance's API (nova-api's /image), Nova's image proxy,
// and kubectl (the Image admission webhook).

// ImagePublicOutsideError refuses a public image anywhere but the public image namespace:
// every tenant sees a public image (ImageVisible), so making one is the cloud operator's
// (Glance's publicize_image), who makes it there.
type ImagePublicOutsideError struct{ Public string }

func (e *ImagePublicOutsideError) Error() string {
	return fmt.Sprintf("visibility public: public images live in namespace %s, where the cloud operator makes them", e.Public)
}

// CheckImageVisibility is the visibility rule: public only in the public namespace.
func CheckImageVisibility(img *computev1.Image, public string) error {
	if img.Spec.Visibility == computev1.ImagePublic && img.Namespace != public {
		return &ImagePublicOutsideError{Public: public}
	}
	return nil
}

// ImageProtectedError refuses deleting a protected image, in Glance's words.
type ImageProtectedError struct{ ID string }

func (e *ImageProtectedError) Error() string {
	return fmt.Sprintf("Image %s is protected and cannot be deleted.", e.ID)
}

// ImageInUseError refuses deleting an image a server is being built from: the build
// would fail for want of it.
type ImageInUseError struct {
	ID      string
	Servers []string // their ids
}

func (e *ImageInUseError) Error() string {
	return fmt.Sprintf("Image %s could not be deleted because it is in use: servers being built from it: %s.",
		e.ID, strings.Join(e.Servers, ", "))
}

// CheckImageDelete says whether img may be deleted now, given the servers that may use it
// (ImageUsers' namespace): not while protected, nor while a server is being built or
// rebuilt from it.
func CheckImageDelete(img *computev1.Image, servers []computev1.Server, public string) error {
	if img.Spec.Protected {
		return &ImageProtectedError{ID: string(img.UID)}
	}
	var using []string
	for i := range servers {
		srv := &servers[i]
		if srv.Spec.ImageRef != ImageRef(img, srv.Namespace, public) || !srv.DeletionTimestamp.IsZero() {
			continue
		}
		if BuildingFromImage(srv) {
			using = append(using, string(srv.UID))
		}
	}
	if len(using) == 0 {
		return nil
	}
	sort.Strings(using)
	return &ImageInUseError{ID: string(img.UID), Servers: using}
}

// ImageUsers is the namespace whose servers may boot from img: its own, or "" (every one)
// for a public, community or shared image.
func ImageUsers(img *computev1.Image, public string) string {
	if img.Namespace == public || img.Spec.Visibility == computev1.ImageCommunity || (img.Spec.Visibility == computev1.ImageShared && len(img.Spec.Members) > 0) {
		return ""
	}
	return img.Namespace
}

// BuildingFromImage says whether srv is reading its image now: building (or not yet taken
// up by the controller) or being rebuilt.
func BuildingFromImage(srv *computev1.Server) bool {
	switch lifecycle.TaskState(srv.Status.TaskState) {
	case lifecycle.TaskRebuilding, lifecycle.TaskRebuildBlockDeviceMapping, lifecycle.TaskRebuildSpawning:
		return true
	}
	return srv.Status.VMState == "" || lifecycle.VMState(srv.Status.VMState) == lifecycle.VMBuilding
}
