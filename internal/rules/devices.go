package rules

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// Devices are desired state like the rest of spec: spec.networks lists a server's virtual
// interfaces, and status.addresses records the ones attached. An entry of spec with no
// address is an attach to make, an address with no entry a detach. Unlike a power state
// there is no "last carried out" record to compare with: status says what the backend has,
// and an attach or detach changes only it.

// DeviceChange is one attach or detach a server's spec asks for.
type DeviceChange struct {
	Action lifecycle.Action
	// Network is the entry to attach (attachInterface), or the network named by the
	// address to detach (detachInterface: Name, and Namespace in NetworkNamespace).
	Network computev1.NetworkAttachment
	// NetworkNamespace is the namespace of a detached address's network.
	NetworkNamespace string
	// Volume is the entry to attach (attachVolume); Attached the attachment to take off
	// (detachVolume).
	Volume   computev1.VolumeAttachment
	Attached computev1.ServerVolumeAttachment
}

// attachedNetworks are the names of the networks the server has an address on, by the
// network the address records (an address from before that record matches nothing, and
// is never detached).
func attachedNetworks(st *computev1.ServerStatus) map[string]computev1.ServerAddress {
	out := map[string]computev1.ServerAddress{}
	for _, a := range st.Addresses {
		if a.Type == "floating" || a.NetworkName == "" {
			continue
		}
		if _, ok := out[a.NetworkName]; !ok {
			out[a.NetworkName] = a
		}
	}
	return out
}

// wantedNetworks are the names spec.networks asks for, in order, once each.
func wantedNetworks(spec *computev1.ServerSpec) []computev1.NetworkAttachment {
	seen := map[string]bool{}
	var out []computev1.NetworkAttachment
	for _, n := range spec.Networks {
		if !seen[n.Name] {
			seen[n.Name] = true
			out = append(out, n)
		}
	}
	return out
}

// DeviceChanges are the attaches and detaches that take a built server from what its status
// records to what its spec asks: detaches first (they free addresses), then attaches, each
// in the order of the lists. A server that has not finished building has none: the build
// takes every network of spec.
func DeviceChanges(srv *computev1.Server) []DeviceChange {
	if srv.Status.VMState == "" || srv.Status.VMState == string(lifecycle.VMBuilding) {
		return nil
	}
	attached := attachedNetworks(&srv.Status)
	wanted := map[string]bool{}
	var attach []DeviceChange
	for _, n := range wantedNetworks(&srv.Spec) {
		wanted[n.Name] = true
		if _, ok := attached[n.Name]; !ok {
			attach = append(attach, DeviceChange{Action: lifecycle.ActionAttachInterface, Network: n})
		}
	}
	var out []DeviceChange
	seen := map[string]bool{}
	for _, a := range srv.Status.Addresses {
		if a.Type == "floating" || a.NetworkName == "" || wanted[a.NetworkName] || seen[a.NetworkName] {
			continue
		}
		seen[a.NetworkName] = true
		out = append(out, DeviceChange{Action: lifecycle.ActionDetachInterface,
			Network: computev1.NetworkAttachment{Name: a.NetworkName}, NetworkNamespace: a.NetworkNamespace})
	}
	volumes := map[string]bool{}
	for _, v := range srv.Spec.Volumes {
		volumes[v.ClaimName] = true
	}
	attachedVolumes := map[string]bool{}
	for _, a := range srv.Status.VolumeAttachments {
		attachedVolumes[a.ClaimName] = true
		if !volumes[a.ClaimName] {
			out = append(out, DeviceChange{Action: lifecycle.ActionDetachVolume, Attached: a})
		}
	}
	out = append(out, attach...)
	for _, v := range srv.Spec.Volumes {
		if !attachedVolumes[v.ClaimName] {
			out = append(out, DeviceChange{Action: lifecycle.ActionAttachVolume, Volume: v})
		}
	}
	return out
}

// NextDeviceChange is the change the controller makes next, if any. A change that failed
// on the backend is not tried again for the same spec: the next edit of spec (a new
// generation) tries again, as a client calls Nova again after a failed attach.
func NextDeviceChange(srv *computev1.Server) (DeviceChange, bool) {
	if f := srv.Status.DeviceFailure; f != nil && f.Generation >= srv.Generation {
		return DeviceChange{}, false
	}
	changes := DeviceChanges(srv)
	if len(changes) == 0 {
		return DeviceChange{}, false
	}
	return changes[0], true
}

// NetworkEdits are the network names an edit of spec.networks adds and removes, each once.
func NetworkEdits(old, srv *computev1.ServerSpec) (added, removed []string) {
	was, is := map[string]bool{}, map[string]bool{}
	for _, n := range old.Networks {
		was[n.Name] = true
	}
	for _, n := range srv.Networks {
		is[n.Name] = true
	}
	for _, n := range wantedNetworks(srv) {
		if !was[n.Name] {
			added = append(added, n.Name)
		}
	}
	for _, n := range wantedNetworks(old) {
		if !is[n.Name] {
			removed = append(removed, n.Name)
		}
	}
	return added, removed
}

// VolumeEdits are the claims an edit of spec.volumes adds and removes.
func VolumeEdits(old, srv *computev1.ServerSpec) (added, removed []string) {
	was, is := map[string]bool{}, map[string]bool{}
	for _, v := range old.Volumes {
		was[v.ClaimName] = true
	}
	for _, v := range srv.Volumes {
		is[v.ClaimName] = true
		if !was[v.ClaimName] {
			added = append(added, v.ClaimName)
		}
	}
	for _, v := range old.Volumes {
		if !is[v.ClaimName] {
			removed = append(removed, v.ClaimName)
		}
	}
	return added, removed
}

// DeviceActions are the lifecycle actions an edit of spec's devices asks for: an attach
// for networks or volumes added, a detach for those removed, a swap for a volume replaced
// by another on its device.
// st is the server's status before the edit (the devices the backend gave), or nil.
func DeviceActions(old, srv *computev1.ServerSpec, st *computev1.ServerStatus) []lifecycle.Action {
	var out []lifecycle.Action
	add := func(added, removed []string, attach, detach lifecycle.Action) {
		if len(added) > 0 {
			out = append(out, attach)
		}
		if len(removed) > 0 {
			out = append(out, detach)
		}
	}
	added, removed := NetworkEdits(old, srv)
	add(added, removed, lifecycle.ActionAttachInterface, lifecycle.ActionDetachInterface)
	added, removed = VolumeEdits(old, srv)
	if swaps := volumeSwaps(old, srv, st); len(swaps) > 0 {
		out = append(out, lifecycle.ActionSwapVolume)
		added, removed = unswapped(added, removed, swaps)
	}
	add(added, removed, lifecycle.ActionAttachVolume, lifecycle.ActionDetachVolume)
	return out
}

// VolumeSwap is one volume of spec.volumes replaced by another on its device in one edit:
// Nova's swap volume (PUT os-volume_attachments/{old} with the new volumeId), which the
// controller carries out as the old one's detach, then the new one's attach.
type VolumeSwap struct{ Old, New string }

// VolumeSwaps are the swaps an edit of a server's spec makes: a claim removed and one added
// on the device the removed one has (as spec names it, or the backend gave it).
func VolumeSwaps(old, srv *computev1.Server) []VolumeSwap {
	return volumeSwaps(&old.Spec, &srv.Spec, &old.Status)
}

func volumeSwaps(old, srv *computev1.ServerSpec, st *computev1.ServerStatus) []VolumeSwap {
	added, removed := VolumeEdits(old, srv)
	if len(added) == 0 || len(removed) == 0 {
		return nil
	}
	device := func(vs []computev1.VolumeAttachment, claim string) string {
		for _, v := range vs {
			if v.ClaimName == claim && v.Device != "" {
				return v.Device
			}
		}
		if st != nil {
			for _, a := range st.VolumeAttachments {
				if a.ClaimName == claim {
					return a.Device
				}
			}
		}
		return ""
	}
	var out []VolumeSwap
	for _, r := range removed {
		dev := device(old.Volumes, r)
		for _, a := range added {
			if dev != "" && device(srv.Volumes, a) == dev {
				out = append(out, VolumeSwap{Old: r, New: a})
				break
			}
		}
	}
	return out
}

// unswapped are the claims added and removed that no swap accounts for.
func unswapped(added, removed []string, swaps []VolumeSwap) (a, r []string) {
	in := map[string]bool{}
	for _, s := range swaps {
		in[s.Old], in[s.New] = true, true
	}
	for _, c := range added {
		if !in[c] {
			a = append(a, c)
		}
	}
	for _, c := range removed {
		if !in[c] {
			r = append(r, c)
		}
	}
	return a, r
}

// DeleteOnTerminationEdits are the claims kept by an edit whose delete_on_termination
// changed (Nova's PUT os-volume_attachments/{id} from 2.85, with the same volumeId).
func DeleteOnTerminationEdits(old, srv *computev1.ServerSpec) []string {
	was := map[string]bool{}
	kept := map[string]bool{}
	for _, v := range old.Volumes {
		was[v.ClaimName], kept[v.ClaimName] = v.DeleteOnTermination, true
	}
	var out []string
	for _, v := range srv.Volumes {
		if kept[v.ClaimName] && was[v.ClaimName] != v.DeleteOnTermination {
			out = append(out, v.ClaimName)
		}
	}
	return out
}

// IsDeviceAction says whether a is an attach or a detach: they leave the server's state as
// it was, and a failure does not put it in ERROR.
func IsDeviceAction(a lifecycle.Action) bool {
	switch a {
	case lifecycle.ActionAttachInterface, lifecycle.ActionDetachInterface,
		lifecycle.ActionAttachVolume, lifecycle.ActionDetachVolume:
		return true
	}
	return false
}
