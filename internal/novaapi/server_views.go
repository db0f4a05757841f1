package novaapi

import (
	"context"
	"net"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// Nova's server view (nova/api/openstack/compute/views/servers.py), field by field and
// microversion by microversion: strict clients refuse a field they do not expect, so
// each appears exactly from the microversion Nova shows it at.

// progressStatuses are the statuses whose view carries "progress".
var progressStatuses = map[string]bool{
	lifecycle.StatusActive: true, lifecycle.StatusBuild: true, lifecycle.StatusRebuild: true,
	lifecycle.StatusResize: true, lifecycle.StatusVerifyResize: true, lifecycle.StatusMigrating: true,
}

// serverView says which parts of the view a response carries.
type serverView struct {
	// full is the GET view; update and rebuild answers are full from 2.75 only.
	full bool
	// inList is a /servers/detail entry (no server_groups).
	inList bool
	// keyName shows key_name outside the full view (rebuild from 2.54).
	keyName bool
	// userData shows user_data (rebuild from 2.57).
	userData bool
	// rebuild is a rebuild's answer, whose admin attributes leave out user_data.
	rebuild bool
	// imageID replaces the image shown (a rebuild's new image).
	imageID *string
}

// addressEntry is one address as Nova lists it; field order as Nova writes it.
type addressEntry struct {
	Version int32  `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type,omitempty"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr,omitempty"`
}

// addresses groups a server's addresses by network label; extended adds the type and MAC.
func addresses(srv *computev1.Server, extended bool) map[string][]addressEntry {
	out := map[string][]addressEntry{}
	for _, a := range srv.Status.Addresses {
		e := addressEntry{Version: a.Version, Addr: a.Address}
		if e.Version == 0 {
			e.Version = 4
			if ip := net.ParseIP(a.Address); ip != nil && ip.To4() == nil {
				e.Version = 6
			}
		}
		if extended {
			e.Type = a.Type
			if e.Type == "" {
				e.Type = "fixed"
			}
			e.MAC = a.MACAddress
		}
		out[a.Network] = append(out[a.Network], e)
	}
	return out
}

// serverFlavorID is the flavor a server has (or, before it is built, the one it asked for).
func serverFlavorID(srv *computev1.Server) string {
	if srv.Status.Flavor != "" {
		return srv.Status.Flavor
	}
	return srv.Spec.FlavorRef
}

// serverImageID is the Nova id (uid) of the image a server runs.
func (h *handler) serverImageID(ctx context.Context, srv *computev1.Server) (string, error) {
	name := srv.Status.Image
	if name != "" && srv.Status.ImageUID != "" {
		return srv.Status.ImageUID, nil
	}
	if name == "" {
		name = srv.Spec.ImageRef
	}
	img, err := h.imageByName(ctx, srv.Namespace, name)
	if err != nil || img == nil {
		return "", err
	}
	return string(img.UID), nil
}

// keyName is the Nova name of a server's keypair, or nil.
func keyName(srv *computev1.Server) any {
	if v, ok := annotation(srv, annKeyName); ok {
		return v
	}
	if srv.Spec.KeyName == "" {
		return nil
	}
	return srv.Spec.KeyName
}

// hostname is Nova's sanitize_hostname of the display name: what the guest is told its
// hostname is.
func hostname(name string) string {
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

func availabilityZone(srv *computev1.Server) string {
	if srv.Spec.AvailabilityZone != "" {
		return srv.Spec.AvailabilityZone
	}
	if srv.Status.Host != "" {
		return defaultAZ
	}
	return ""
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// buildServer renders one server at the request's microversion.
func (rq *request) buildServer(srv *computev1.Server, st lifecycle.State, o serverView) (map[string]any, error) {
	ctx, v := rq.ctx, rq.version
	id := string(srv.UID)
	status := lifecycle.Status(st.VM, st.Task)

	imageID := ""
	if o.imageID != nil {
		imageID = *o.imageID
	} else {
		var err error
		if imageID, err = rq.h.serverImageID(ctx, srv); err != nil {
			return nil, err
		}
	}
	var image any = ""
	if imageID != "" {
		image = map[string]any{"id": imageID, "links": rq.bookmark("images", imageID)}
	}
	flavor, err := rq.serverFlavor(srv)
	if err != nil {
		return nil, err
	}
	updated := srv.CreationTimestamp.Time
	if srv.Status.Updated != nil && srv.Status.Updated.After(updated) {
		updated = srv.Status.Updated.Time
	}
	addrs := map[string][]addressEntry{}
	if st.VM != lifecycle.VMBuilding {
		addrs = addresses(srv, o.full)
	}
	metadata := srv.Spec.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}

	out := map[string]any{
		"id":                id,
		"name":              srv.DisplayName(),
		"status":            status,
		"tenant_id":         srv.Namespace,
		"user_id":           annotationOr(srv, annUserID, ""),
		"metadata":          metadata,
		"hostId":            srv.Status.HostID,
		"image":             image,
		"flavor":            flavor,
		"created":           isoTime(srv.CreationTimestamp.Time),
		"updated":           isoTime(updated),
		"addresses":         addrs,
		"accessIPv4":        annotationOr(srv, annAccessIPv4, ""),
		"accessIPv6":        annotationOr(srv, annAccessIPv6, ""),
		"links":             rq.links("servers", id),
		"OS-DCF:diskConfig": annotationOr(srv, annDiskConfig, "MANUAL"),
	}
	if (status == lifecycle.StatusError || status == lifecycle.StatusDeleted) && srv.Status.Fault != nil {
		fault, err := rq.fault(srv.Status.Fault)
		if err != nil {
			return nil, err
		}
		out["fault"] = fault
	}
	if progressStatuses[status] {
		out["progress"] = srv.Status.Progress
	}
	if o.full {
		out["OS-EXT-AZ:availability_zone"] = availabilityZone(srv)
		out["config_drive"] = annotationOr(srv, annConfigDrive, "")
		out["key_name"] = keyName(srv)
		out["OS-SRV-USG:launched_at"] = naiveOrNull(srv.Status.LaunchedAt)
		out["OS-SRV-USG:terminated_at"] = nil
		if len(srv.Status.Addresses) > 0 {
			out["security_groups"] = []map[string]string{{"name": "default"}}
		}
		admin, err := rq.isAdmin()
		if err != nil {
			return nil, err
		}
		if admin {
			rq.extendedAttributes(srv, out, !o.rebuild)
		}
		out["OS-EXT-STS:task_state"] = orNull(string(st.Task))
		out["OS-EXT-STS:vm_state"] = string(st.VM)
		out["OS-EXT-STS:power_state"] = int(st.Power)
		out["os-extended-volumes:volumes_attached"] = []any{}
		if v.AtLeast(16) && admin {
			out["host_status"] = hostStatus(srv)
		}
	} else if o.keyName {
		out["key_name"] = keyName(srv)
	}
	if v.AtLeast(9) {
		out["locked"] = srv.Spec.Locked
	}
	if v.AtLeast(73) {
		out["locked_reason"] = orNull(srv.Spec.LockedReason)
	}
	if v.AtLeast(19) {
		if d, ok := annotation(srv, annDescription); ok {
			out["description"] = d
		} else {
			out["description"] = nil
		}
	}
	if v.AtLeast(26) {
		out["tags"] = serverTags(srv)
	}
	if v.AtLeast(63) {
		out["trusted_image_certificates"] = nil
	}
	if v.AtLeast(71) && !o.inList {
		out["server_groups"] = []string{}
	}
	if o.userData {
		out["user_data"] = orNull(srv.Spec.UserData)
	}
	return out, nil
}

// extendedAttributes adds the admin-only OS-EXT-SRV-ATTR fields.
func (rq *request) extendedAttributes(srv *computev1.Server, out map[string]any, userData bool) {
	out["OS-EXT-SRV-ATTR:host"] = orNull(srv.Status.Host)
	out["OS-EXT-SRV-ATTR:instance_name"] = srv.Name
	out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = orNull(srv.Status.Host)
	if !rq.version.AtLeast(3) {
		return
	}
	index := 0
	if s, ok := annotation(srv, annLaunchIndex); ok {
		index, _ = strconv.Atoi(s)
	}
	out["OS-EXT-SRV-ATTR:reservation_id"] = reservationID(srv)
	out["OS-EXT-SRV-ATTR:launch_index"] = index
	out["OS-EXT-SRV-ATTR:hostname"] = hostname(srv.DisplayName())
	out["OS-EXT-SRV-ATTR:kernel_id"] = ""
	out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
	out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
	if userData {
		out["OS-EXT-SRV-ATTR:user_data"] = orNull(srv.Spec.UserData)
	}
}

func reservationID(srv *computev1.Server) string {
	if r, ok := annotation(srv, annReservationID); ok {
		return r
	}
	return "r-" + strings.ReplaceAll(string(srv.UID), "-", "")[:8]
}

// hostStatus is Nova's host_status: UP while the server has a host, "" without one.
func hostStatus(srv *computev1.Server) string {
	if srv.Status.Host == "" {
		return ""
	}
	return "UP"
}

// serverFlavor is the flavor part of the view: a reference before 2.47, the flavor's
// contents from it.
func (rq *request) serverFlavor(srv *computev1.Server) (any, error) {
	id := serverFlavorID(srv)
	if !rq.version.AtLeast(47) {
		return map[string]any{"id": id, "links": rq.bookmark("flavors", id)}, nil
	}
	f, err := rq.h.flavor(rq.ctx, id)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return map[string]any{}, nil
	}
	extra := f.Spec.ExtraSpecs
	if extra == nil {
		extra = map[string]string{}
	}
	return map[string]any{
		"vcpus":         f.Spec.VCPUs,
		"ram":           f.Spec.RAM,
		"disk":          f.Spec.Disk,
		"ephemeral":     f.Spec.Ephemeral,
		"swap":          f.Spec.Swap,
		"original_name": f.DisplayName(),
		"extra_specs":   extra,
	}, nil
}

// fault is a server's fault; details only for admins or when the code is not 500.
func (rq *request) fault(f *computev1.ServerFault) (map[string]any, error) {
	out := map[string]any{
		"code":    f.Code,
		"created": isoTime(f.Created.Time),
		"message": f.Message,
	}
	if f.Details != "" {
		admin, err := rq.isAdmin()
		if err != nil {
			return nil, err
		}
		if admin || f.Code != 500 {
			out["details"] = f.Details
		}
	}
	return out, nil
}

// serverShow renders a server for GET /servers/{id}.
func (rq *request) serverShow(srv *computev1.Server) (map[string]any, error) {
	srv, st, err := rq.h.shownState(rq.ctx, srv)
	if err != nil {
		return nil, err
	}
	return rq.buildServer(srv, st, serverView{full: true})
}
