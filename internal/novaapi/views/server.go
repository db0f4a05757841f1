package views

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	"github.com/kova-dev/kova/internal/rules"
)

// Server is Nova's server view (views/servers.py): the "server" of GET /servers/{id}
// (Full), of each GET /servers/detail entry (Full, InList), and of the answers of
// PUT /servers/{id} and rebuild (Full from 2.75; before, the basic fields only).
//
// Every microversion, what changes:
//
//	2.1+   the basic fields; the full view adds availability zone, config drive, key_name,
//	       OS-SRV-USG, security groups, OS-EXT-STS, volumes; Nova's admin also sees
//	       OS-EXT-SRV-ATTR host, instance_name, hypervisor_hostname (ServerAdmin)
//	2.3+   admin: reservation_id, launch_index, hostname, kernel_id, ramdisk_id,
//	       root_device_name, user_data
//	2.9+   locked
//	2.16+  admin: host_status
//	2.19+  description (null when none)
//	2.26+  tags
//	2.47+  flavor is embedded (EmbeddedFlavor: vcpus, ram, disk, ...); before, a Ref
//	2.54+  rebuild's answer: key_name
//	2.57+  rebuild's answer: user_data
//	2.63+  trusted_image_certificates (null)
//	2.71+  server_groups (not in the list)
//	2.73+  locked_reason
//	2.75+  PUT and rebuild answer the full view
type Server struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Status     string               `json:"status"`
	TenantID   string               `json:"tenant_id"`
	UserID     string               `json:"user_id"`
	Metadata   map[string]string    `json:"metadata"`
	HostID     string               `json:"hostId"`
	Image      any                  `json:"image"`  // a Ref, or "" when the server has no image
	Flavor     any                  `json:"flavor"` // a Ref before 2.47, an EmbeddedFlavor from it
	Created    string               `json:"created"`
	Updated    string               `json:"updated"`
	Addresses  map[string][]Address `json:"addresses"`
	AccessIPv4 string               `json:"accessIPv4"`
	AccessIPv6 string               `json:"accessIPv6"`
	Links      []Link               `json:"links"`
	DiskConfig string               `json:"OS-DCF:diskConfig"`
	Fault      *Fault               `json:"fault,omitempty"`    // ERROR or DELETED with a fault
	Progress   *int32               `json:"progress,omitempty"` // in the statuses that progress

	// The full view.
	AvailabilityZone *string         `json:"OS-EXT-AZ:availability_zone,omitempty"`
	ConfigDrive      *string         `json:"config_drive,omitempty"`
	KeyName          Opt[string]     `json:"key_name,omitzero"` // also rebuild's answer from 2.54
	LaunchedAt       Opt[string]     `json:"OS-SRV-USG:launched_at,omitzero"`
	TerminatedAt     Opt[string]     `json:"OS-SRV-USG:terminated_at,omitzero"`
	SecurityGroups   []SecurityGroup `json:"security_groups,omitempty"` // once it has addresses
	*ServerAdmin
	TaskState       Opt[string] `json:"OS-EXT-STS:task_state,omitzero"`
	VMState         *string     `json:"OS-EXT-STS:vm_state,omitempty"`
	PowerState      *int        `json:"OS-EXT-STS:power_state,omitempty"`
	VolumesAttached []any       `json:"os-extended-volumes:volumes_attached,omitzero"`
	HostStatus      *string     `json:"host_status,omitempty"` // 2.16+, admin

	Locked                   *bool         `json:"locked,omitempty"` // 2.9+
	LockedReason             Opt[string]   `json:"locked_reason,omitzero"`
	Description              Opt[string]   `json:"description,omitzero"`
	Tags                     []string      `json:"tags,omitzero"`
	TrustedImageCertificates Opt[[]string] `json:"trusted_image_certificates,omitzero"`
	ServerGroups             []string      `json:"server_groups,omitzero"`
	UserData                 Opt[string]   `json:"user_data,omitzero"`  // rebuild's answer from 2.57
	AdminPass                string        `json:"adminPass,omitempty"` // rebuild's answer
}

// SecurityGroup is one entry of a server's security_groups.
type SecurityGroup struct {
	Name string `json:"name"`
}

// Fault is a server's fault: details only for Nova's admin or when the code is not 500.
type Fault struct {
	Code    int32  `json:"code"`
	Created string `json:"created"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

// ServerShape says which parts of the view a response carries.
type ServerShape struct {
	// Full is the GET view; update and rebuild answers are full from 2.75 only.
	Full bool
	// InList is a /servers/detail entry (no server_groups).
	InList bool
	// KeyName shows key_name outside the full view (rebuild from 2.54).
	KeyName bool
	// UserData shows user_data (rebuild from 2.57).
	UserData bool
	// Rebuild is a rebuild's answer, whose admin attributes leave out user_data.
	Rebuild bool
}

// ServerInput is what a server's view is made of: the Server and its lifecycle state,
// and what the handler found or keeps for it.
type ServerInput struct {
	Server  *computev1.Server
	State   lifecycle.State
	Version microversion.Version
	Shape   ServerShape
	// Admin is whether the caller is Nova's admin: it sees more of the full view, and
	// a fault's details whatever its code.
	Admin bool

	Image  any // a Ref, or "" when none
	Flavor any // a Ref or an EmbeddedFlavor (see ServerFlavor)
	Links  []Link

	// Facts the handler keeps beside the Server (annotations).
	UserID, AccessIPv4, AccessIPv6, DiskConfig, ConfigDrive string
	KeyName, Description                                    Opt[string] // null when none
	Tags                                                    []string
	ReservationID                                           string
	LaunchIndex                                             int
	DefaultAZ                                               string
	// ServerGroups are the ids of the groups the server is in (2.71, not in lists).
	ServerGroups []string
}

// progressStatuses are the statuses whose view carries "progress".
var progressStatuses = map[string]bool{
	lifecycle.StatusActive: true, lifecycle.StatusBuild: true, lifecycle.StatusRebuild: true,
	lifecycle.StatusResize: true, lifecycle.StatusVerifyResize: true, lifecycle.StatusMigrating: true,
}

// NewServer lays out one server at in.Version.
func NewServer(in ServerInput) *Server {
	srv, st := in.Server, in.State
	status := lifecycle.Status(st.VM, st.Task)
	updated := srv.CreationTimestamp.Time
	if srv.Status.Updated != nil && srv.Status.Updated.After(updated) {
		updated = srv.Status.Updated.Time
	}
	addrs := map[string][]Address{}
	if st.VM != lifecycle.VMBuilding {
		addrs = Addresses(srv, in.Shape.Full)
	}
	metadata := srv.Spec.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	out := &Server{
		ID:         string(srv.UID),
		Name:       srv.DisplayName(),
		Status:     status,
		TenantID:   srv.Namespace,
		UserID:     in.UserID,
		Metadata:   metadata,
		HostID:     srv.Status.HostID,
		Image:      in.Image,
		Flavor:     in.Flavor,
		Created:    ISOTime(srv.CreationTimestamp.Time),
		Updated:    ISOTime(updated),
		Addresses:  addrs,
		AccessIPv4: in.AccessIPv4,
		AccessIPv6: in.AccessIPv6,
		Links:      in.Links,
		DiskConfig: in.DiskConfig,
	}
	if (status == lifecycle.StatusError || status == lifecycle.StatusDeleted) && srv.Status.Fault != nil {
		out.Fault = newFault(srv.Status.Fault, in.Admin)
	}
	if progressStatuses[status] {
		p := srv.Status.Progress
		out.Progress = &p
	}
	switch {
	case in.Shape.Full:
		out.full(in)
	case in.Shape.KeyName:
		out.KeyName = in.KeyName
	}
	out.versioned(in)
	return out
}

// full adds the fields of the full view.
func (out *Server) full(in ServerInput) {
	srv, st := in.Server, in.State
	az := AvailabilityZone(srv, in.DefaultAZ)
	vm, power := string(st.VM), int(st.Power)
	out.AvailabilityZone = &az
	out.ConfigDrive = &in.ConfigDrive
	out.KeyName = in.KeyName
	out.LaunchedAt = NaiveOrNull(srv.Status.LaunchedAt)
	out.TerminatedAt = Null[string]()
	if len(srv.Status.Addresses) > 0 {
		// The groups of the server's ports, by name (Server.spec.securityGroups).
		out.SecurityGroups = []SecurityGroup{}
		for _, name := range rules.ServerSecurityGroups(srv) {
			out.SecurityGroups = append(out.SecurityGroups, SecurityGroup{Name: name})
		}
	}
	if in.Admin {
		out.ServerAdmin = newServerAdmin(in)
	}
	out.TaskState = OrNull(string(st.Task))
	out.VMState = &vm
	out.PowerState = &power
	out.VolumesAttached = []any{}
	if in.Version.AtLeast(16) && in.Admin {
		hs := HostStatus(srv)
		out.HostStatus = &hs
	}
}

// versioned adds the fields that come with a microversion, whatever the view.
func (out *Server) versioned(in ServerInput) {
	srv, v := in.Server, in.Version
	if v.AtLeast(9) {
		locked := srv.Status.Locked
		out.Locked = &locked
	}
	if v.AtLeast(73) {
		out.LockedReason = OrNull(srv.Status.LockedReason)
	}
	if v.AtLeast(19) {
		out.Description = in.Description
	}
	if v.AtLeast(26) {
		out.Tags = in.Tags
		if out.Tags == nil {
			out.Tags = []string{}
		}
	}
	if v.AtLeast(63) {
		out.TrustedImageCertificates = Null[[]string]()
	}
	if v.AtLeast(71) && !in.Shape.InList {
		out.ServerGroups = append([]string{}, in.ServerGroups...)
	}
	if in.Shape.UserData {
		out.UserData = OrNull(rules.ServerUserData(srv))
	}
}

func newFault(f *computev1.ServerFault, detail bool) *Fault {
	out := &Fault{Code: f.Code, Created: ISOTime(f.Created.Time), Message: f.Message}
	if detail || f.Code != 500 {
		out.Details = f.Details
	}
	return out
}

// AvailabilityZone is the zone a server asked for, or once it has a host defaultAZ
// (Nova's default_availability_zone). A forced host is not part of it: Nova keeps only the
// zone of "zone:host:node" (parse_availability_zone).
func AvailabilityZone(srv *computev1.Server, defaultAZ string) string {
	if zone, _, _, _ := computev1.ParseAvailabilityZone(srv.Spec.AvailabilityZone); zone != "" {
		return zone
	}
	if srv.Status.Host != "" {
		return defaultAZ
	}
	return ""
}

// HostStatus is Nova's host_status: UP while the server has a host, "" without one.
func HostStatus(srv *computev1.Server) string {
	if srv.Status.Host == "" {
		return ""
	}
	return "UP"
}
