package novaapi

import (
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

func sizedClaim(name, uid, size string) *corev1.PersistentVolumeClaim {
	pvc := claim(name, uid)
	pvc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}
	return pvc
}

func TestVolumeAttachmentUpdate(t *testing.T) {
	const (
		bigUID   = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e11"
		smallUID = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e12"
		heldUID  = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e13"
		nopeUID  = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7eff"
		stopUID  = "5d1d2a3c-0b5e-4f3e-9a55-0d1c2b3a4f50"
	)
	srv := withVolume(server("srv-a", srvUID, base), "data", volUID, "/dev/vdb")
	srv.Spec.Volumes[0].Tag = "db"
	other := withVolume(server("srv-b", "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", base), "held", heldUID, "/dev/vdb")
	stopped := withVolume(inState(server("srv-s", stopUID, base), lifecycle.VMStopped, lifecycle.TaskNone, lifecycle.PowerShutdown), "stopdata", vol2UID, "/dev/vdb")
	e := newEnv(t, standard(srv, other, stopped, sizedClaim("data", volUID, "1Gi"), sizedClaim("big", bigUID, "2Gi"),
		sizedClaim("small", smallUID, "512Mi"), sizedClaim("held", heldUID, "1Gi"), sizedClaim("stopdata", vol2UID, "1Gi"))...)
	path := "/servers/" + srvUID + "/os-volume_attachments/" + volUID
	body := func(id, extra string) string { return `{"volumeAttachment": {"volumeId": "` + id + `"` + extra + `}}` }
	member, admin := e.as("demo", "2.79"), e.as("admin", "2.1")

	// Every PUT is a swap (below 2.85), the cloud operator's, even to the same volume.
	member.do(http.MethodPut, path, body(bigUID, "")).expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.")
	member.do(http.MethodPut, path, body(volUID, "")).expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.")
	admin.do(http.MethodPut, path, body(volUID, `, "delete_on_termination": true`)).expect(400) // not in the schema
	member.do(http.MethodPut, "/servers/"+nopeUID+"/os-volume_attachments/"+volUID, body(bigUID, "")).
		expectFault(404, "itemNotFound", "Instance "+nopeUID+" could not be found.")

	// Swaps, with Nova's refusals.
	admin.do(http.MethodPut, "/servers/"+srvUID+"/os-volume_attachments/"+nopeUID, body(bigUID, "")).expectFault(404, "itemNotFound", "Volume "+nopeUID+" could not be found.")
	admin.do(http.MethodPut, path, body(nopeUID, "")).expectFault(400, "badRequest", "Volume "+nopeUID+" could not be found.")
	admin.do(http.MethodPut, path, body(heldUID, "")).expectFault(400, "badRequest", "Invalid volume: New volume must be detached in order to swap.")
	admin.do(http.MethodPut, path, body(smallUID, "")).expectFault(400, "badRequest", "Invalid volume: New volume must be the same size or larger.")
	admin.do(http.MethodPut, "/servers/"+srvUID+"/os-volume_attachments/"+heldUID, body(bigUID, "")).
		expectFault(400, "badRequest", "Invalid volume: Old volume is attached to a different instance.")
	admin.do(http.MethodPut, "/servers/"+stopUID+"/os-volume_attachments/"+vol2UID, body(bigUID, "")).
		expectFault(409, "conflictingRequest", "Cannot 'swap_volume' instance "+stopUID+" while it is in vm_state stopped")
	if v := e.getServer("srv-a").Spec.Volumes; len(v) != 1 || v[0].ClaimName != "data" {
		t.Fatalf("a refused swap changed spec.volumes: %+v", v)
	}
	admin.do(http.MethodPut, path, body(volUID, "")).expectFault(400, "badRequest", "Invalid volume: New volume must be detached in order to swap.")
	admin.do(http.MethodPut, path, body(bigUID, "")).expect(202)
	want := computev1.VolumeAttachment{ClaimName: "big", Device: "/dev/vdb", Tag: "db"}
	if v := e.getServer("srv-a").Spec.Volumes; len(v) != 1 || v[0] != want {
		t.Errorf("spec.volumes after the swap %+v, want %+v", v, want)
	}
}
