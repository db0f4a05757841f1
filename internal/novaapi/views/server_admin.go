package views

import (
	"strings"

	"github.com/kova-dev/kova/internal/rules"
)

// ServerAdmin is what Nova shows only its admin of a server, in the full view: the
// OS-EXT-SRV-ATTR extended attributes.
type ServerAdmin struct {
	Host               Opt[string] `json:"OS-EXT-SRV-ATTR:host"`
	InstanceName       string      `json:"OS-EXT-SRV-ATTR:instance_name"`
	HypervisorHostname Opt[string] `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`

	// 2.3+
	ReservationID  *string     `json:"OS-EXT-SRV-ATTR:reservation_id,omitempty"`
	LaunchIndex    *int        `json:"OS-EXT-SRV-ATTR:launch_index,omitempty"`
	Hostname       *string     `json:"OS-EXT-SRV-ATTR:hostname,omitempty"`
	KernelID       *string     `json:"OS-EXT-SRV-ATTR:kernel_id,omitempty"`
	RamdiskID      *string     `json:"OS-EXT-SRV-ATTR:ramdisk_id,omitempty"`
	RootDeviceName *string     `json:"OS-EXT-SRV-ATTR:root_device_name,omitempty"`
	UserData       Opt[string] `json:"OS-EXT-SRV-ATTR:user_data,omitzero"` // not in rebuild's answer
}

func newServerAdmin(in ServerInput) *ServerAdmin {
	srv := in.Server
	out := &ServerAdmin{
		Host:               OrNull(srv.Status.Host),
		InstanceName:       srv.Name,
		HypervisorHostname: OrNull(srv.Status.Host),
	}
	if !in.Version.AtLeast(3) {
		return out
	}
	empty, root := "", "/dev/vda"
	hostname := Hostname(srv.DisplayName())
	out.ReservationID = &in.ReservationID
	out.LaunchIndex = &in.LaunchIndex
	out.Hostname = &hostname
	out.KernelID, out.RamdiskID, out.RootDeviceName = &empty, &empty, &root
	if !in.Shape.Rebuild {
		out.UserData = OrNull(rules.ServerUserData(srv))
	}
	return out
}

// Hostname is Nova's sanitize_hostname of a display name: what the guest is told its
// hostname is.
func Hostname(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		case r == ' ', r == '_':
			b.WriteRune('-')
		}
	}
	s := strings.Trim(b.String(), ".-")
	if len(s) > 63 {
		s = strings.Trim(s[:63], ".-")
	}
	return s
}
