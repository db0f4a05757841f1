package rules

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// SnapshotImageName is the name of the Image a createImage ServerAction makes.
func SnapshotImageName(sa *computev1.ServerAction) string {
	return "snapshot-" + string(sa.UID)
}

// SnapshotImage is the Image a createImage ServerAction sa on srv makes, queued in Glance's
// words until the snapshot is saved. The REST shim makes it at once (Nova answers the
// image's id before the snapshot starts) and the controller when it takes the action up;
// whichever comes first, the deterministic name makes it one image.
func SnapshotImage(srv *computev1.Server, sa *computev1.ServerAction) *computev1.Image {
	params := sa.Spec.CreateImage
	if params == nil {
		params = &computev1.CreateImageParams{}
	}
	meta := map[string]string{
		"image_type":     "snapshot",
		"instance_uuid":  string(srv.UID),
		"base_image_ref": srv.Status.ImageUID,
		"user_id":        sa.Spec.RequestedBy,
	}
	for k, v := range params.Metadata {
		meta[k] = v
	}
	var annotations map[string]string
	if b := params.Backup; b != nil {
		// Nova's backup properties, over whatever the metadata said.
		meta["image_type"], meta["backup_type"] = imageTypeBackup, b.Type
		annotations = map[string]string{AnnBackupRotation: strconv.Itoa(int(b.Rotation))}
	}
	return &computev1.Image{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   srv.Namespace,
			Name:        SnapshotImageName(sa),
			Labels:      map[string]string{computev1.LabelServer: srv.Name},
			Annotations: annotations,
		},
		Spec: computev1.ImageSpec{
			Name:            params.ImageName,
			Source:          computev1.ImageSource{ServerSnapshot: &computev1.ServerSnapshotSource{ServerName: srv.Name, ServerUID: string(srv.UID)}},
			DiskFormat:      "qcow2",
			ContainerFormat: "bare",
			Visibility:      "private",
			Metadata:        meta,
		},
	}
}

// ShelvedImageName is the name of the Image a server's shelve makes (one at a time: an
// unshelve deletes it).
func ShelvedImageName(srv *computev1.Server) string {
	return "shelved-" + string(srv.UID)
}

// ShelvedImage is the snapshot Nova takes when it shelves a server: named after the server
// ("<name>-shelved"), kept while the server is shelved and deleted when it is unshelved or
// deleted.
func ShelvedImage(srv *computev1.Server) *computev1.Image {
	return &computev1.Image{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: srv.Namespace,
			Name:      ShelvedImageName(srv),
			Labels:    map[string]string{computev1.LabelServer: srv.Name},
		},
		Spec: computev1.ImageSpec{
			Name:            srv.DisplayName() + "-shelved",
			Source:          computev1.ImageSource{ServerSnapshot: &computev1.ServerSnapshotSource{ServerName: srv.Name, ServerUID: string(srv.UID)}},
			DiskFormat:      "qcow2",
			ContainerFormat: "bare",
			Visibility:      "private",
			Metadata: map[string]string{
				"image_type":     "snapshot",
				"instance_uuid":  string(srv.UID),
				"base_image_ref": srv.Status.ImageUID,
			},
		},
	}
}
