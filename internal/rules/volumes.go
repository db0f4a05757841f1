package rules

import (
	"fmt"
	"regexp"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Device names, as Nova gives them (nova/compute/utils.py get_next_device_name): the root
// disk is /dev/vda, and a volume takes the letter asked for, or the first one no disk of
// the server has, after the root's. A name asked for with another prefix (/dev/sdc) takes
// the root's prefix (/dev/vdc), as Nova converts it. Kova's flavors' ephemeral and swap disks
// are not devices of their own, so volumes start at /dev/vdb.

// RootDevice is a server's root disk.
const RootDevice = "/dev/vda"

// devicePattern is Nova's block_device.match_device: a prefix and a letter suffix.
var devicePattern = regexp.MustCompile(`^(/dev/x?[a-z]?d?)([a-z]+)[0-9]*$`)

// DeviceError is a device name Nova refuses: InvalidDevicePath (400) or DevicePathInUse
// (409).
type DeviceError struct {
	InUse   bool
	Message string
}

func (e *DeviceError) Error() string { return e.Message }

// deviceLetter is the letter of a device name ("b" of /dev/vdb); "" if it is not one.
func deviceLetter(dev string) string {
	m := devicePattern.FindStringSubmatch(dev)
	if m == nil {
		return ""
	}
	return m[2]
}

// usedLetters are the letters the server's disks have or are promised, but claim's own.
func usedLetters(srv *computev1.Server, claim string) map[string]bool {
	used := map[string]bool{deviceLetter(RootDevice): true}
	for _, a := range srv.Status.VolumeAttachments {
		if a.ClaimName != claim {
			used[deviceLetter(a.Device)] = true
		}
	}
	for _, v := range srv.Spec.Volumes {
		if v.ClaimName != claim && v.Device != "" {
			used[deviceLetter(v.Device)] = true
		}
	}
	return used
}

// AssignDevice is the device name claim gets on srv: want's letter if it is free, else
// the first free one. It is the same wherever it is computed from the same server.
func AssignDevice(srv *computev1.Server, claim, want string) (string, error) {
	used := usedLetters(srv, claim)
	if want != "" {
		letter := deviceLetter(want)
		if letter == "" {
			return "", &DeviceError{Message: fmt.Sprintf("The supplied device path (%s) is invalid.", want)}
		}
		if used[letter] {
			return "", &DeviceError{InUse: true, Message: fmt.Sprintf("The supplied device path (%s) is in use.", want)}
		}
		return "/dev/vd" + letter, nil
	}
	for c := 'b'; c <= 'z'; c++ {
		if !used[string(c)] {
			return "/dev/vd" + string(c), nil
		}
	}
	return "", &DeviceError{Message: fmt.Sprintf("The maximum allowed number of disk devices (%d) to attach to a single instance has been exceeded.", computev1.MaxVolumes+1)}
}

// VolumeAttached is the attachment of claim that srv's status records, if any.
func VolumeAttached(srv *computev1.Server, claim string) (computev1.ServerVolumeAttachment, bool) {
	for _, a := range srv.Status.VolumeAttachments {
		if a.ClaimName == claim {
			return a, true
		}
	}
	return computev1.ServerVolumeAttachment{}, false
}

// WantsVolume says whether srv's spec or status has claim: a server that has it may keep
// it, and nobody else may take it.
func WantsVolume(srv *computev1.Server, claim string) bool {
	if _, ok := VolumeAttached(srv, claim); ok {
		return true
	}
	for _, v := range srv.Spec.Volumes {
		if v.ClaimName == claim {
			return true
		}
	}
	return false
}
