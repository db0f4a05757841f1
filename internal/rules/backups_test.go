package rules

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestBackupsToRotate(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "srv-a", UID: "s1"}}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	backup := func(name, kind string, at time.Duration, rotation int32) computev1.Image {
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{UID: types.UID(name)}, Spec: computev1.ServerActionSpec{
			CreateImage: &computev1.CreateImageParams{ImageName: name, Backup: &computev1.BackupParams{Type: kind, Rotation: rotation}}}}
		img := SnapshotImage(srv, sa)
		img.UID = types.UID(name)
		img.CreationTimestamp = metav1.NewTime(t0.Add(at))
		return *img
	}
	snapshot := SnapshotImage(srv, &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{UID: "snap"},
		Spec: computev1.ServerActionSpec{CreateImage: &computev1.CreateImageParams{ImageName: "snap"}}})
	b1, b2 := backup("b1", "daily", 0, 2), backup("b2", "daily", time.Second, 2)
	weekly := backup("w1", "weekly", 0, 2)
	b3 := backup("b3", "daily", time.Second, 2) // created in the same second as b2
	all := []computev1.Image{*snapshot, weekly, b1, b2, b3}

	if b3.Spec.Metadata["image_type"] != "backup" || b3.Spec.Metadata["backup_type"] != "daily" || b3.Spec.Metadata["instance_uuid"] != "s1" {
		t.Fatalf("backup metadata %v", b3.Spec.Metadata)
	}
	names := func(imgs []computev1.Image) []string {
		var out []string
		for _, i := range imgs {
			out = append(out, string(i.UID))
		}
		return out
	}
	if got := names(BackupsToRotate(&b3, all)); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("rotation 2 after b3 deletes %v, want [b1]", got)
	}
	if got := BackupsToRotate(&b2, []computev1.Image{b1, b2}); len(got) != 0 {
		t.Errorf("two backups with rotation 2 delete %v", names(got))
	}
	keepOne := backup("b4", "daily", 0, 1) // the tie with b1 goes to the new one
	if got := names(BackupsToRotate(&keepOne, []computev1.Image{b1, keepOne})); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("rotation 1 deletes %v, want [b1]", got)
	}
	none := backup("b5", "daily", 2*time.Second, 0)
	if got := names(BackupsToRotate(&none, append(all, none))); !slices.Equal(got, []string{"b5", "b3", "b2", "b1"}) {
		t.Errorf("rotation 0 deletes %v", got)
	}
	if got := BackupsToRotate(snapshot, all); got != nil {
		t.Errorf("a snapshot rotates %v", names(got))
	}
}
