package novaapi

import (
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

const (
	volUID  = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e01"
	vol2UID = "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e02"
)

func claim(name, uid string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID(uid)}}
}

// withVolume is a server with the claim attached at device, as the controller leaves it.
func withVolume(srv *computev1.Server, name, uid, device string) *computev1.Server {
	srv.Spec.Volumes = append(srv.Spec.Volumes, computev1.VolumeAttachment{ClaimName: name, Device: device})
	srv.Status.VolumeAttachments = append(srv.Status.VolumeAttachments, computev1.ServerVolumeAttachment{
		ID: uid, ServerID: string(srv.UID), VolumeID: uid, ClaimName: name, Device: device})
	return srv
}

func attached(name string) func(*computev1.Server) bool {
	return func(s *computev1.Server) bool {
		_, ok := rules.VolumeAttached(s, name)
		return !ok && rules.WantsVolume(s, name)
	}
}

func TestVolumeAttachAndShow(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base), claim("data", volUID))...).as("demo", "2.79")
	e.backend("srv-a", attached("data"), func(s *computev1.Server) {
		s.Status.VolumeAttachments = withVolume(s.DeepCopy(), "data", volUID, s.Spec.Volumes[0].Device).Status.VolumeAttachments
	})
	path := "/servers/" + srvUID + "/os-volume_attachments"
	m := e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+volUID+`", "tag": "db", "delete_on_termination": true}}`).expect(200).object()
	want := fmt.Sprintf("map[volumeAttachment:map[delete_on_termination:true device:/dev/vdb id:%s serverId:%s tag:db volumeId:%s]]", volUID, srvUID, volUID)
	if fmt.Sprint(m) != want {
		t.Errorf("attach\n got %v\nwant %s", m, want)
	}
	if v := e.getServer("srv-a").Spec.Volumes; len(v) != 1 || v[0] != (computev1.VolumeAttachment{ClaimName: "data", Device: "/dev/vdb", Tag: "db", DeleteOnTermination: true}) {
		t.Errorf("spec.volumes %+v", v)
	}
	m = e.as("demo", "2.1").do(http.MethodGet, path, "").expect(200).object()
	if got := fmt.Sprint(m); got != fmt.Sprintf("map[volumeAttachments:[map[device:/dev/vdb id:%s serverId:%s volumeId:%s]]]", volUID, srvUID, volUID) {
		t.Errorf("list at 2.1 %s", got)
	}
	m = e.do(http.MethodGet, path+"/"+volUID, "").expect(200).object()
	if fmt.Sprint(m) != want {
		t.Errorf("show %v", m)
	}
	e.do(http.MethodGet, path+"/"+vol2UID, "").expectFault(404, "itemNotFound", "Instance "+srvUID+" is not attached to volume "+vol2UID)
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+volUID+`"}}`).
		expectFault(400, "badRequest", "Invalid volume: volume "+volUID+" is already attached to instances: "+srvUID)
}

func TestVolumeAttachRefusals(t *testing.T) {
	other := withVolume(server("srv-b", "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", base), "shared", vol2UID, "/dev/vdb")
	shelved := inState(server("srv-s", "5d1d2a3c-0b5e-4f3e-9a55-0d1c2b3a4f5e", base), lifecycle.VMShelvedOffloaded, lifecycle.TaskNone, lifecycle.PowerShutdown)
	e := newEnv(t, standard(withVolume(server("srv-a", srvUID, base), "boot", "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e03", "/dev/vdb"),
		other, shelved, claim("data", volUID), claim("shared", vol2UID), claim("boot", "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7e03"))...)
	path := "/servers/" + srvUID + "/os-volume_attachments"
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7eff"}}`).
		expectFault(404, "itemNotFound", "Volume 3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7eff could not be found.")
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+vol2UID+`"}}`).
		expectFault(400, "badRequest", "Invalid volume: volume "+vol2UID+" is already attached to instances: "+string(other.UID))
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+volUID+`", "device": "/dev/vdb"}}`).
		expectFault(409, "conflictingRequest", "The supplied device path (/dev/vdb) is in use.")
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+volUID+`", "device": "vdc"}}`).
		expectFault(400, "badRequest", "Invalid input for field/attribute device. Value: vdc. 'vdc' does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'")
	e.do(http.MethodPost, path, `{"volumeAttachment": {"volumeId": "`+volUID+`", "tag": "t"}}`).
		expectFault(400, "badRequest", "Invalid input for field/attribute volumeAttachment. Value: {'volumeId': '"+volUID+"', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)")
	e.do(http.MethodPost, "/servers/"+string(shelved.UID)+"/os-volume_attachments", `{"volumeAttachment": {"volumeId": "`+volUID+`"}}`).
		expectFault(409, "conflictingRequest", "Cannot 'attach_volume' instance "+string(shelved.UID)+" while it is in vm_state shelved_offloaded")
	e.do(http.MethodDelete, path+"/"+volUID, "").expectFault(404, "itemNotFound", "Instance "+srvUID+" is not attached to volume "+volUID)
	e.do(http.MethodDelete, path+"/3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7eff", "").
		expectFault(404, "itemNotFound", "Volume 3b8e6a52-94c5-4e9b-8d0b-6a1f0c2d7eff could not be found.")
	if v := e.getServer("srv-a").Spec.Volumes; len(v) != 1 {
		t.Errorf("a refused call wrote spec.volumes %+v", v)
	}
}

func TestVolumeDetach(t *testing.T) {
	e := newEnv(t, standard(withVolume(server("srv-a", srvUID, base), "data", volUID, "/dev/vdb"), claim("data", volUID))...)
	e.backend("srv-a", func(s *computev1.Server) bool { return len(s.Spec.Volumes) == 0 },
		func(s *computev1.Server) { s.Status.VolumeAttachments = nil })
	path := "/servers/" + srvUID + "/os-volume_attachments"
	e.do(http.MethodDelete, path+"/"+volUID, "").expect(202)
	m := e.do(http.MethodGet, path, "").expect(200).object()
	if fmt.Sprint(m) != "map[volumeAttachments:[]]" {
		t.Errorf("list after the detach %v", m)
	}
}
