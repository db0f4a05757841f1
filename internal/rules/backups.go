package rules

import (
	"slices"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// AnnBackupRotation on a backup image (createBackup) is how many backups of its type its
// server keeps, the image itself included.
const AnnBackupRotation = "compute.kova.dev/backup-rotation"

// imageTypeBackup is Nova's image_type property of a backup.
const imageTypeBackup = "backup"

// BackupsToRotate are the backups that Nova's _rotate_backups deletes once backup is
// active: of the images of the same server and backup type, all but the newest
// rotation (by creation, then name for a tie). images is every image of the server (any
// kind); nil if backup is not a backup.
func BackupsToRotate(backup *computev1.Image, images []computev1.Image) []computev1.Image {
	rotation, err := strconv.Atoi(backup.Annotations[AnnBackupRotation])
	meta := backup.Spec.Metadata
	if err != nil || meta["image_type"] != imageTypeBackup {
		return nil
	}
	var same []computev1.Image
	for _, img := range images {
		m := img.Spec.Metadata
		if m["image_type"] == imageTypeBackup && m["backup_type"] == meta["backup_type"] && m["instance_uuid"] == meta["instance_uuid"] &&
			img.DeletionTimestamp == nil {
			same = append(same, img)
		}
	}
	// Newest first.
	slices.SortFunc(same, func(a, b computev1.Image) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		if a.UID == backup.UID || b.UID == backup.UID { // the new one is the newest of a tie
			return boolRank(b.UID == backup.UID) - boolRank(a.UID == backup.UID)
		}
		return strings.Compare(b.Name, a.Name)
	})
	if len(same) <= rotation {
		return nil
	}
	return same[rotation:]
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
