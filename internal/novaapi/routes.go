package novaapi

import (
	"net/http"
	"strings"
)

// route is one path pattern ("servers/{}/metadata/{}") and method, optionally bounded by
// microversions: outside them Nova answers 404, as if the method were not there.
type route struct {
	method  string
	pattern []string
	min     int // lowest 2.x minor, 0 for none
	max     int // highest 2.x minor, 0 for none
	fn      func(*request) error
}

func endpoint(method, pattern string, fn func(*request) error) route {
	return route{method: method, pattern: strings.Split(pattern, "/"), fn: fn}
}

func (rt route) versions(min, max int) route {
	rt.min, rt.max = min, max
	return rt
}

func (rt route) match(method string, segs []string) ([]string, bool) {
	if len(segs) != len(rt.pattern) || method != rt.method {
		return nil, false
	}
	var params []string
	for i, p := range rt.pattern {
		switch {
		case p == "{}":
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

func (h *handler) computeRoutes() []route {
	routes := []route{
		endpoint(http.MethodGet, "servers", h.listServers),
		endpoint(http.MethodPost, "servers", h.createServer),
		endpoint(http.MethodGet, "servers/detail", h.listServersDetail),
		endpoint(http.MethodGet, "servers/{}", h.showServer),
		endpoint(http.MethodPut, "servers/{}", h.updateServer),
		endpoint(http.MethodDelete, "servers/{}", h.deleteServer),
		endpoint(http.MethodPost, "servers/{}/action", h.serverAction),
		endpoint(http.MethodGet, "servers/{}/ips", h.listIPs),
		endpoint(http.MethodGet, "servers/{}/ips/{}", h.showIPs),
		endpoint(http.MethodGet, "servers/{}/metadata", h.listServerMetadata),
		endpoint(http.MethodPost, "servers/{}/metadata", h.updateServerMetadata),
		endpoint(http.MethodPut, "servers/{}/metadata", h.replaceServerMetadata),
		endpoint(http.MethodGet, "servers/{}/metadata/{}", h.showServerMetadataItem),
		endpoint(http.MethodPut, "servers/{}/metadata/{}", h.setServerMetadataItem),
		endpoint(http.MethodDelete, "servers/{}/metadata/{}", h.deleteServerMetadataItem),
		endpoint(http.MethodGet, "servers/{}/os-instance-actions", h.listInstanceActions),
		endpoint(http.MethodGet, "servers/{}/os-instance-actions/{}", h.showInstanceAction),
		endpoint(http.MethodGet, "servers/{}/tags", h.listServerTags).versions(26, 0),
		endpoint(http.MethodPut, "servers/{}/tags", h.replaceServerTags).versions(26, 0),
		endpoint(http.MethodDelete, "servers/{}/tags", h.deleteServerTags).versions(26, 0),
		endpoint(http.MethodGet, "servers/{}/tags/{}", h.showServerTag).versions(26, 0),
		endpoint(http.MethodPut, "servers/{}/tags/{}", h.addServerTag).versions(26, 0),
		endpoint(http.MethodDelete, "servers/{}/tags/{}", h.deleteServerTag).versions(26, 0),
		endpoint(http.MethodGet, "servers/{}/os-server-password", h.showServerPassword),
		endpoint(http.MethodDelete, "servers/{}/os-server-password", h.clearServerPassword),
		endpoint(http.MethodGet, "os-availability-zone", h.listAvailabilityZones),
		endpoint(http.MethodGet, "servers/{}/rax-si-image-schedule", h.showImageSchedule),
		endpoint(http.MethodPost, "servers/{}/rax-si-image-schedule", h.enableImageSchedule),
		endpoint(http.MethodDelete, "servers/{}/rax-si-image-schedule", h.disableImageSchedule),

		endpoint(http.MethodGet, "flavors", h.listFlavors),
		endpoint(http.MethodGet, "flavors/detail", h.listFlavorsDetail),
		endpoint(http.MethodGet, "flavors/{}", h.showFlavor),
		endpoint(http.MethodGet, "flavors/{}/os-extra_specs", h.showExtraSpecs),

		// The image proxy ends at 2.35, its metadata at 2.38 (MAX_PROXY_API_SUPPORT_VERSION
		// and MAX_IMAGE_META_PROXY_API_VERSION).
		endpoint(http.MethodGet, "images", h.listImages).versions(0, 35),
		endpoint(http.MethodGet, "images/detail", h.listImagesDetail).versions(0, 35),
		endpoint(http.MethodGet, "images/{}", h.showImage).versions(0, 35),
		endpoint(http.MethodDelete, "images/{}", h.deleteImage).versions(0, 35),
		endpoint(http.MethodGet, "images/{}/metadata", h.listImageMetadata).versions(0, 38),
		endpoint(http.MethodPost, "images/{}/metadata", h.updateImageMetadata).versions(0, 38),
		endpoint(http.MethodPut, "images/{}/metadata", h.replaceImageMetadata).versions(0, 38),
		endpoint(http.MethodGet, "images/{}/metadata/{}", h.showImageMetadataItem).versions(0, 38),
		endpoint(http.MethodPut, "images/{}/metadata/{}", h.setImageMetadataItem).versions(0, 38),
		endpoint(http.MethodDelete, "images/{}/metadata/{}", h.deleteImageMetadataItem).versions(0, 38),

		endpoint(http.MethodGet, "os-keypairs", h.listKeypairs),
		endpoint(http.MethodPost, "os-keypairs", h.createKeypair),
		endpoint(http.MethodGet, "os-keypairs/{}", h.showKeypair),
		endpoint(http.MethodDelete, "os-keypairs/{}", h.deleteKeypair),

		endpoint(http.MethodGet, "os-server-groups", h.listServerGroups),
		endpoint(http.MethodPost, "os-server-groups", h.createServerGroup),
		endpoint(http.MethodGet, "os-server-groups/{}", h.showServerGroup),
		endpoint(http.MethodDelete, "os-server-groups/{}", h.deleteServerGroup),

		endpoint(http.MethodGet, "limits", h.showLimits),

		endpoint(http.MethodGet, "os-quota-sets/{}", h.showQuotaSet),
		endpoint(http.MethodPut, "os-quota-sets/{}", h.updateQuotaSet),
		endpoint(http.MethodDelete, "os-quota-sets/{}", h.deleteQuotaSet),
		endpoint(http.MethodGet, "os-quota-sets/{}/defaults", h.showQuotaSetDefaults),
		endpoint(http.MethodGet, "os-quota-sets/{}/detail", h.showQuotaSetDetail),
		endpoint(http.MethodGet, "os-quota-class-sets/{}", h.showQuotaClass),
		endpoint(http.MethodPut, "os-quota-class-sets/{}", h.updateQuotaClass),

		endpoint(http.MethodGet, "os-networksv2", h.listNetworks),
		endpoint(http.MethodPost, "os-networksv2", h.createNetwork),
		endpoint(http.MethodGet, "os-networksv2/{}", h.showNetwork),
		endpoint(http.MethodDelete, "os-networksv2/{}", h.deleteNetwork),

		endpoint(http.MethodGet, "servers/{}/os-virtual-interfacesv2", h.listVirtualInterfaces),
		endpoint(http.MethodPost, "servers/{}/os-virtual-interfacesv2", h.createVirtualInterface),
		endpoint(http.MethodDelete, "servers/{}/os-virtual-interfacesv2/{}", h.deleteVirtualInterface),

		endpoint(http.MethodGet, "servers/{}/os-volume_attachments", h.listVolumeAttachments),
		endpoint(http.MethodPost, "servers/{}/os-volume_attachments", h.createVolumeAttachment),
		endpoint(http.MethodGet, "servers/{}/os-volume_attachments/{}", h.showVolumeAttachment),
		endpoint(http.MethodPut, "servers/{}/os-volume_attachments/{}", h.updateVolumeAttachment),
		endpoint(http.MethodDelete, "servers/{}/os-volume_attachments/{}", h.deleteVolumeAttachment),

		// The security-group and floating-IP proxies end at 2.35
		// (MAX_PROXY_API_SUPPORT_VERSION); a server's groups do not.
		endpoint(http.MethodGet, "os-security-groups", h.listSecurityGroups).versions(0, 35),
		endpoint(http.MethodPost, "os-security-groups", h.createSecurityGroup).versions(0, 35),
		endpoint(http.MethodGet, "os-security-groups/{}", h.showSecurityGroup).versions(0, 35),
		endpoint(http.MethodPut, "os-security-groups/{}", h.updateSecurityGroup).versions(0, 35),
		endpoint(http.MethodDelete, "os-security-groups/{}", h.deleteSecurityGroup).versions(0, 35),
		endpoint(http.MethodPost, "os-security-group-rules", h.createSecurityGroupRule).versions(0, 35),
		endpoint(http.MethodDelete, "os-security-group-rules/{}", h.deleteSecurityGroupRule).versions(0, 35),
		endpoint(http.MethodGet, "servers/{}/os-security-groups", h.listServerSecurityGroups),

		endpoint(http.MethodGet, "os-floating-ips", h.listFloatingIPs).versions(0, 35),
		endpoint(http.MethodPost, "os-floating-ips", h.createFloatingIP).versions(0, 35),
		endpoint(http.MethodGet, "os-floating-ips/{}", h.showFloatingIP).versions(0, 35),
		endpoint(http.MethodDelete, "os-floating-ips/{}", h.deleteFloatingIP).versions(0, 35),
	}
	return routes
}
