package novaapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// serverPlan is what a valid create asks for, resolved against what exists.
type serverPlan struct {
	count         int
	spec          computev1.ServerSpec
	annotations   map[string]string
	password      string
	reservationID string
	describe      bool              // description defaults to the name (before 2.19)
	idempotent    *idempotentCreate // the create's Idempotency-Key, if it has one
}

// planServer checks a create the way Nova's API and compute API do, in their order (the
// first refusal is the one Nova answers), and resolves the flavor, image, keypair and
// networks it names.
func (h *handler) planServer(rq *request, body *serverCreate) (*serverPlan, error) {
	s := &body.Server
	plan := newServerPlan(rq, s)
	minCount, maxCount, err := requestedCounts(s)
	if err != nil {
		return nil, err
	}
	if err := rq.checkCreateRequest(s); err != nil {
		return nil, err
	}
	requested, auto, err := parseNetworks(s.Networks)
	if err != nil {
		return nil, err
	}
	if maxCount.n > 1 && slices.ContainsFunc(requested, func(r nwRequest) bool { return r.FixedIP != nil }) {
		return nil, badRequest("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.")
	}
	flavor, err := h.requestedFlavor(rq, s)
	if err != nil {
		return nil, err
	}

	// From here on, the compute API's checks.
	img, err := h.requestedImage(rq, s, flavor)
	if err != nil {
		return nil, err
	}
	if err := checkCreateExtras(body); err != nil {
		return nil, err
	}
	serverGroup, err := h.bootGroup(rq, body)
	if err != nil {
		return nil, err
	}
	var askedGroups []string
	for _, sg := range s.SecurityGroups {
		if sg.Name != "" {
			askedGroups = append(askedGroups, sg.Name)
		}
	}
	groups, err := h.createSecurityGroups(rq, askedGroups)
	if err != nil {
		return nil, err
	}
	nets, err := h.resolveNetworks(rq, requested, auto)
	if err != nil {
		return nil, err
	}
	keyName, err := h.createKeyName(rq, s, plan)
	if err != nil {
		return nil, err
	}
	if err := checkBootable(s, flavor, img); err != nil {
		return nil, err
	}
	plan.spec = computev1.ServerSpec{
		Name:       s.Name,
		FlavorRef:  flavor.Name,
		ImageRef:   rules.ImageRef(img, rq.caller.Tenant, h.public),
		KeyName:    keyName,
		Networks:   nets,
		PowerState: computev1.PowerActive,
		// Groups are names (of the tenant's groups), as in Nova's request.
		SecurityGroups: groups,
		Metadata:       s.Metadata,
		ServerGroup:    serverGroup,
	}
	plan.fill(s, rq.version)
	// Last, as in Nova's compute API: the instance quota and Kova's bound per request.
	if plan.count, err = h.serversToCreate(rq.ctx, rq.caller.Tenant, flavor, minCount, maxCount); err != nil {
		return nil, err
	}
	return plan, nil
}

// newServerPlan starts a plan: who asks, a reservation id, the password.
func newServerPlan(rq *request, s *serverCreateAttrs) *serverPlan {
	plan := &serverPlan{annotations: map[string]string{
		annUserID:        rq.userName(),
		annReservationID: "r-" + randomString(8),
	}}
	plan.reservationID = plan.annotations[annReservationID]
	plan.password = generatePassword()
	if s.AdminPass != nil {
		plan.password = *s.AdminPass
	}
	return plan
}

// requestedCounts are min_count and max_count (one each by default).
func requestedCounts(s *serverCreateAttrs) (minCount, maxCount instanceCount, err error) {
	minCount = parseCount(s.MinCount, oneInstance())
	maxCount = parseCount(s.MaxCount, minCount)
	if maxCount.less(minCount) {
		return minCount, maxCount, badRequest("min_count must be <= max_count")
	}
	return minCount, maxCount, nil
}

// checkCreateRequest is the API's checks of what a create asks for before any lookup: a
// host (2.74), a zone, block devices, an image.
func (rq *request) checkCreateRequest(s *serverCreateAttrs) error {
	if rq.version.AtLeast(74) && (s.Host != "" || s.HypervisorHostname != "") {
		if err := rq.adminOnly("compute:servers:create:requested_destination"); err != nil {
			return err
		}
		return notImplemented("Requesting a host")
	}
	if s.AvailabilityZone != nil {
		if err := rq.checkZone(*s.AvailabilityZone); err != nil {
			return err
		}
	}
	if len(s.BlockDeviceMapping) > 0 && len(s.BlockDeviceMappingV2) > 0 {
		return badRequest("Using different block_device_mapping syntaxes is not allowed in the same request.")
	}
	if len(s.BlockDeviceMapping) > 0 || len(s.BlockDeviceMappingV2) > 0 {
		return notImplemented("Booting with block device mappings")
	}
	if s.ImageRef == nil || *s.ImageRef == "" {
		return badRequest("Missing imageRef attribute")
	}
	return nil
}

// requestedFlavor is the flavor a create names, if the caller may use it.
func (h *handler) requestedFlavor(rq *request, s *serverCreateAttrs) (*computev1.Flavor, error) {
	flavorID := flavorIDFromRef(s.FlavorRef)
	flavor, err := h.usableFlavor(rq, flavorID)
	if err != nil {
		return nil, err
	}
	if flavor == nil {
		return nil, badRequest("Flavor %s could not be found.", flavorID)
	}
	return flavor, nil
}

// requestedImage is the image a create names, if the caller sees it: from the cache when
// it has it ready to boot on flavor (boot_refs.go), else as the API server has it now.
func (h *handler) requestedImage(rq *request, s *serverCreateAttrs, flavor *computev1.Flavor) (*computev1.Image, error) {
	id := js.CanonicalUUID(*s.ImageRef)
	if img, err := h.cachedBootImage(rq.ctx, rq.caller.Tenant, id, flavor); err != nil || img != nil {
		return img, err
	}
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("Can not find requested image")
	}
	if usable, err := h.imageUsable(rq.ctx, rq.caller.Tenant, img); err != nil {
		return nil, err
	} else if !usable {
		return nil, badRequest("%s", (&rules.ImageNotAcceptedError{ID: string(img.UID), Tenant: rq.caller.Tenant}).Error())
	}
	return img, nil
}

// checkCreateExtras is the compute API's checks of metadata and files, which Kova has (or
// has not) in their simplest form.
func checkCreateExtras(body *serverCreate) error {
	s := &body.Server
	if len(s.Metadata) > maxMetaItems {
		return forbidden("Maximum number of metadata items exceeds %d", maxMetaItems)
	}
	if len(s.Personality) > 0 {
		return notImplemented("File injection (personality)")
	}
	return nil
}

// createKeyName is the object name of the caller's keypair a create names ("" for
// none); a Nova name that differs from it is kept for the view.
func (h *handler) createKeyName(rq *request, s *serverCreateAttrs, plan *serverPlan) (string, error) {
	if s.KeyName == nil {
		return "", nil
	}
	kp, err := h.keypair(rq.ctx, rq.caller.Tenant, rq.userName(), *s.KeyName)
	if err != nil {
		return "", err
	}
	if kp == nil {
		return "", badRequest("Invalid key_name provided.")
	}
	if kp.Name != *s.KeyName {
		plan.annotations[annKeyName] = *s.KeyName
	}
	return kp.Name, nil
}

// checkBootable is the compute API's checks that the image can boot on the flavor, and
// of what the guest is given.
func checkBootable(s *serverCreateAttrs, flavor *computev1.Flavor, img *computev1.Image) error {
	if img.Status.Status != computev1.ImageActive {
		return badRequest("Image %s is not active.", img.UID)
	}
	if err := fitsImage(flavor, img); err != nil {
		return err
	}
	if s.TrustedImageCertificates != nil && len(*s.TrustedImageCertificates) > 0 {
		return notImplemented("Trusted image certificates")
	}
	if s.UserData != nil {
		if _, err := rules.DecodeBase64(*s.UserData); err != nil {
			return badRequest("%s", rules.UserDataNotBase64)
		}
	}
	return nil
}

// fill adds what the create asks for beyond the resolved references: zone, user data,
// and the facts kept in annotations.
func (plan *serverPlan) fill(s *serverCreateAttrs, v apiVersion) {
	if s.AvailabilityZone != nil {
		plan.spec.AvailabilityZone = *s.AvailabilityZone
	}
	if s.UserData != nil {
		plan.spec.UserData = *s.UserData
	}
	if s.DiskConfig == "AUTO" {
		plan.annotations[annDiskConfig] = "AUTO"
	}
	plan.spec.AccessIPv4, plan.spec.AccessIPv6 = canonicalIP(s.AccessIPv4), canonicalIP(s.AccessIPv6)
	if truthy(s.ConfigDrive) {
		plan.annotations[annConfigDrive] = "True"
	}
	if v.AtLeast(19) {
		plan.spec.Description = s.Description
	} else {
		plan.describe = true
	}
	if len(s.Tags) > 0 {
		plan.spec.Tags = slices.Compact(slices.Sorted(slices.Values(s.Tags)))
	}
}

// checkZone is Nova's check of the availability zone a create asks for, in both forms of
// create (/v2.1 and FlexCloud): more than two colons is a 400; "zone:host", "zone:host:node"
// or "zone::node" forces a host, which only an admin may do (the controller then places the
// server there or fails it with NoValidHost).
func (rq *request) checkZone(zone string) error {
	if _, _, _, err := computev1.ParseAvailabilityZone(zone); err != nil {
		return badRequest("Invalid input received: %s", err)
	}
	if !computev1.ForcesHost(zone) {
		return nil
	}
	return rq.adminOnly("os_compute_api:servers:create:forced_host")
}

// adminOnly is a policy only Nova's admin (the cloud operator) passes, such as a create
// that picks its host or a change of quotas; anyone else gets Nova's 403 naming rule.
func (rq *request) adminOnly(rule string) error {
	admin, err := rq.isAdmin()
	if err != nil {
		return err
	}
	if !admin {
		return policyForbidden(rule)
	}
	return nil
}

// flavorIDFromRef is Nova's get_id_from_href: the last path segment of a URL, or the id.
func flavorIDFromRef(ref any) string {
	var s string
	switch t := ref.(type) {
	case string:
		s = t
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	default:
		s = fmt.Sprint(t)
	}
	if u, err := url.Parse(s); err == nil {
		s = u.Path
	}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// usableFlavor is a flavor the caller may use: public ones, and any for admins.
func (h *handler) usableFlavor(rq *request, id string) (*computev1.Flavor, error) {
	f, err := h.flavor(rq.ctx, id)
	if err != nil || f == nil {
		return nil, err
	}
	if !f.Spec.IsPublic {
		admin, err := rq.isAdmin()
		if err != nil {
			return nil, err
		}
		if !admin {
			return nil, nil
		}
	}
	return f, nil
}

// fitsImage is rules.FitsImage answered as Nova's 400.
func fitsImage(f *computev1.Flavor, img *computev1.Image) error {
	if err := rules.FitsImage(f, img); err != nil {
		return badRequest("%s", err.Error())
	}
	return nil
}

func hintString(body *serverCreate, k string) (string, bool) {
	for _, hints := range []map[string]any{body.Hints, body.HintsOld} {
		if v, ok := hints[k].(string); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// truthy is oslo's bool_from_string on one of Nova's boolean enum values.
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		b, _ := boolFromString(t)
		return b
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
