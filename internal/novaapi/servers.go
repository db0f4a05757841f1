package novaapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// GET, PUT and DELETE /servers/{id}, and POST /servers.

func (h *handler) showServer(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	v, err := rq.serverShow(srv)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server": v})
}

func (h *handler) deleteServer(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	st, err := h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	if err := rq.check(lifecycle.ActionDelete, srv, st); err != nil {
		return err
	}
	uid := srv.UID
	err = h.writer(rq.ctx).Delete(rq.ctx, srv, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}

// serverAttrs are the attributes both PUT /servers/{id} and rebuild change: the name
// in the spec, the rest in annotations (a null description removes it).
type serverAttrs struct {
	Name        *string         `json:"name"`
	DiskConfig  *string         `json:"OS-DCF:diskConfig"`
	AccessIPv4  *string         `json:"accessIPv4"`
	AccessIPv6  *string         `json:"accessIPv6"`
	Description json.RawMessage `json:"description"`
}

func (a *serverAttrs) apply(s *computev1.Server) {
	if a.Name != nil {
		s.Spec.Name = *a.Name
	}
	for k, v := range map[string]*string{annDiskConfig: a.DiskConfig, annAccessIPv4: a.AccessIPv4, annAccessIPv6: a.AccessIPv6} {
		if v != nil {
			setAnnotation(s, k, *v)
		}
	}
	if a.Description != nil {
		var d *string
		_ = json.Unmarshal(a.Description, &d)
		if d == nil {
			delete(s.Annotations, annDescription)
		} else {
			setAnnotation(s, annDescription, *d)
		}
	}
}

// serverUpdate is PUT /servers/{id}'s body.
type serverUpdate struct {
	Server serverAttrs `json:"server"`
}

func (h *handler) updateServer(rq *request) error {
	if _, err := rq.validBody(schemas.ServerUpdate(rq.version)); err != nil {
		return err
	}
	var body serverUpdate
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	srv, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		body.Server.apply(s)
		return nil
	})
	if err != nil {
		return err
	}
	st, err := h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	full := rq.version.AtLeast(75)
	v, err := rq.buildServer(srv, st, serverView{ServerShape: views.ServerShape{Full: full}})
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server": v})
}

// patchServer changes a server under an optimistic lock (see patchFresh).
func (h *handler) patchServer(ctx context.Context, srv *computev1.Server, change func(*computev1.Server) error) (*computev1.Server, error) {
	out, err := patchFresh(ctx, h.writer(ctx), srv, change)
	if apierrors.IsNotFound(err) {
		return nil, notFound("Instance %s could not be found.", srv.UID)
	}
	return out, err
}

// patchFresh changes an object with a merge patch under an optimistic lock. When the
// cached copy was stale, the object is read again past the cache and change is applied
// to it again: change must decide from what it is given, so a check in it is made against
// the latest object.
func patchFresh[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Client, obj PT, change func(PT) error) (PT, error) {
	cur := obj.DeepCopyObject().(PT)
	first := true
	err := retry.OnError(retry.DefaultRetry, isOptimisticConflict, func() error {
		if !first {
			fresh := PT(new(T))
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
				return err
			}
			cur = fresh
		}
		first = false
		next := cur.DeepCopyObject().(PT)
		if err := change(next); err != nil {
			return err
		}
		if err := c.Patch(ctx, next, client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		cur = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}

// serverCreate is POST /servers's body, read once it is valid.
type serverCreate struct {
	Server struct {
		Name                 string            `json:"name"`
		ImageRef             *string           `json:"imageRef"`
		FlavorRef            any               `json:"flavorRef"`
		AdminPass            *string           `json:"adminPass"`
		Metadata             map[string]string `json:"metadata"`
		Networks             json.RawMessage   `json:"networks"`
		DiskConfig           string            `json:"OS-DCF:diskConfig"`
		AccessIPv4           string            `json:"accessIPv4"`
		AccessIPv6           string            `json:"accessIPv6"`
		Personality          []json.RawMessage `json:"personality"`
		AvailabilityZone     *string           `json:"availability_zone"`
		BlockDeviceMapping   []json.RawMessage `json:"block_device_mapping"`
		BlockDeviceMappingV2 []json.RawMessage `json:"block_device_mapping_v2"`
		ConfigDrive          any               `json:"config_drive"`
		KeyName              *string           `json:"key_name"`
		MinCount             json.RawMessage   `json:"min_count"`
		MaxCount             json.RawMessage   `json:"max_count"`
		ReturnReservationID  any               `json:"return_reservation_id"`
		SecurityGroups       []struct {
			Name string `json:"name"`
		} `json:"security_groups"`
		UserData                 *string   `json:"user_data"`
		Description              *string   `json:"description"`
		Tags                     []string  `json:"tags"`
		TrustedImageCertificates *[]string `json:"trusted_image_certificates"`
		Host                     string    `json:"host"`
		HypervisorHostname       string    `json:"hypervisor_hostname"`
	} `json:"server"`
	Hints    map[string]any `json:"os:scheduler_hints"`
	HintsOld map[string]any `json:"OS-SCH-HNT:scheduler_hints"`
}

// nwRequest is one requested network, or auto/none.
type nwRequest struct {
	UUID    *string `json:"uuid"`
	FixedIP *string `json:"fixed_ip"`
	Port    *string `json:"port"`
}

func (h *handler) createServer(rq *request) error {
	if _, err := rq.validBody(schemas.ServerCreate(rq.version)); err != nil {
		return err
	}
	var body serverCreate
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	ic, err := rq.idempotency("compute")
	if err != nil {
		return err
	}
	// A retry is answered before anything is planned: the quota already counts its servers.
	first, err := h.previousCreate(rq.ctx, rq.caller.Tenant, ic)
	if err != nil {
		return err
	}
	replayed := first != nil
	var plan *serverPlan
	if !replayed {
		if plan, err = h.planServer(rq, &body); err != nil {
			return err
		}
		plan.idempotent = ic
		if first, replayed, err = h.createServers(rq, plan); err != nil {
			return err
		}
	}
	if truthy(body.Server.ReturnReservationID) {
		return rq.json(http.StatusAccepted, map[string]any{"reservation_id": first.Annotations[annReservationID]})
	}
	id := string(first.UID)
	sgs := []map[string]string{{"name": "default"}}
	if body.Server.SecurityGroups != nil {
		sgs = []map[string]string{}
		for _, sg := range body.Server.SecurityGroups {
			sgs = append(sgs, map[string]string{"name": sg.Name})
		}
	}
	links := rq.links("servers", id)
	rq.w.Header().Set("Location", links[0].Href)
	out := map[string]any{
		"id":                id,
		"links":             links,
		"OS-DCF:diskConfig": orDefault(body.Server.DiskConfig, "MANUAL"),
		"security_groups":   sgs,
	}
	// A generated password is not kept anywhere, so the answer to a retry can only repeat
	// one the client gave; without it, it has no adminPass, as Nova's answer when
	// enable_instance_password is off.
	switch {
	case !replayed:
		out["adminPass"] = plan.password
	case body.Server.AdminPass != nil:
		out["adminPass"] = *body.Server.AdminPass
	}
	return rq.json(http.StatusAccepted, map[string]any{"server": out})
}

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

// planServer checks a create the way Nova's API and compute API do, in their order, and
// resolves the flavor, image, keypair and networks it names.
func (h *handler) planServer(rq *request, body *serverCreate) (*serverPlan, error) {
	ctx, s := rq.ctx, &body.Server
	plan := &serverPlan{annotations: map[string]string{
		annUserID:        rq.userName(),
		annReservationID: "r-" + randomString(8),
	}}
	plan.reservationID = plan.annotations[annReservationID]
	plan.password = generatePassword()
	if s.AdminPass != nil {
		plan.password = *s.AdminPass
	}
	minCount := parseCount(s.MinCount, oneInstance())
	maxCount := parseCount(s.MaxCount, minCount)
	if maxCount.less(minCount) {
		return nil, badRequest("min_count must be <= max_count")
	}

	if rq.version.AtLeast(74) && (s.Host != "" || s.HypervisorHostname != "") {
		if err := rq.mayChooseHost("compute:servers:create:requested_destination"); err != nil {
			return nil, err
		}
		return nil, notImplemented("Requesting a host")
	}
	if s.AvailabilityZone != nil {
		if err := rq.checkZone(*s.AvailabilityZone); err != nil {
			return nil, err
		}
	}
	if len(s.BlockDeviceMapping) > 0 && len(s.BlockDeviceMappingV2) > 0 {
		return nil, badRequest("Using different block_device_mapping syntaxes is not allowed in the same request.")
	}
	if len(s.BlockDeviceMapping) > 0 || len(s.BlockDeviceMappingV2) > 0 {
		return nil, notImplemented("Booting with block device mappings")
	}
	if s.ImageRef == nil || *s.ImageRef == "" {
		return nil, badRequest("Missing imageRef attribute")
	}
	requested, auto, err := parseNetworks(s.Networks)
	if err != nil {
		return nil, err
	}
	if maxCount.n > 1 && slices.ContainsFunc(requested, func(r nwRequest) bool { return r.FixedIP != nil }) {
		return nil, badRequest("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.")
	}

	flavorID := flavorIDFromRef(s.FlavorRef)
	flavor, err := h.usableFlavor(rq, flavorID)
	if err != nil {
		return nil, err
	}
	if flavor == nil {
		return nil, badRequest("Flavor %s could not be found.", flavorID)
	}

	// From here on, the compute API's checks.
	img, ok, err := h.image(ctx, rq.caller.Tenant, js.CanonicalUUID(*s.ImageRef))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("Can not find requested image")
	}
	if len(s.Metadata) > maxMetaItems {
		return nil, forbidden("Maximum number of metadata items exceeds %d", maxMetaItems)
	}
	if len(s.Personality) > 0 {
		return nil, notImplemented("File injection (personality)")
	}
	for _, sg := range s.SecurityGroups {
		if sg.Name != "" && sg.Name != "default" {
			return nil, badRequest("Security group %s not found.", sg.Name)
		}
	}
	if g, ok := hintString(body, "group"); ok {
		return nil, badRequest("Instance group %s could not be found.", g)
	}
	nets, err := h.resolveNetworks(rq, requested, auto)
	if err != nil {
		return nil, err
	}
	keyName := ""
	if s.KeyName != nil {
		kp, err := h.keypair(ctx, rq.caller.Tenant, rq.userName(), *s.KeyName)
		if err != nil {
			return nil, err
		}
		if kp == nil {
			return nil, badRequest("Invalid key_name provided.")
		}
		keyName = kp.Name
		if kp.Name != *s.KeyName {
			plan.annotations[annKeyName] = *s.KeyName
		}
	}
	if img.Status.Status != computev1.ImageActive {
		return nil, badRequest("Image %s is not active.", img.UID)
	}
	if err := fitsImage(flavor, img); err != nil {
		return nil, err
	}
	if s.TrustedImageCertificates != nil && len(*s.TrustedImageCertificates) > 0 {
		return nil, notImplemented("Trusted image certificates")
	}
	if s.UserData != nil {
		if _, err := js.DecodeBase64(*s.UserData); err != nil {
			return nil, badRequest("User data needs to be valid base 64.")
		}
	}

	plan.spec = computev1.ServerSpec{
		Name:       s.Name,
		FlavorRef:  flavor.Name,
		ImageRef:   img.Name,
		KeyName:    keyName,
		Networks:   nets,
		PowerState: computev1.PowerActive,
		Metadata:   s.Metadata,
	}
	if s.AvailabilityZone != nil {
		plan.spec.AvailabilityZone = *s.AvailabilityZone
	}
	if s.UserData != nil {
		plan.spec.UserData = *s.UserData
	}
	if s.DiskConfig == "AUTO" {
		plan.annotations[annDiskConfig] = "AUTO"
	}
	if s.AccessIPv4 != "" {
		plan.annotations[annAccessIPv4] = s.AccessIPv4
	}
	if s.AccessIPv6 != "" {
		plan.annotations[annAccessIPv6] = s.AccessIPv6
	}
	if truthy(s.ConfigDrive) {
		plan.annotations[annConfigDrive] = "True"
	}
	if rq.version.AtLeast(19) {
		if s.Description != nil {
			plan.annotations[annDescription] = *s.Description
		}
	} else {
		plan.describe = true
	}
	if len(s.Tags) > 0 {
		b, _ := json.Marshal(s.Tags)
		plan.annotations[annTags] = string(b)
	}
	// Last, as in Nova's compute API: the instance quota and Kova's bound per request.
	if plan.count, err = h.serversToCreate(ctx, rq.caller.Tenant, minCount, maxCount); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkZone is Nova's check of the availability zone a create asks for, in both forms of
// create (/v2.1 and FlexCloud): "zone:host" or "zone:host:node" forces a host, which only
// an admin may do, and which Kova cannot do yet.
func (rq *request) checkZone(zone string) error {
	if !computev1.ForcesHost(zone) {
		return nil
	}
	if err := rq.mayChooseHost("os_compute_api:servers:create:forced_host"); err != nil {
		return err
	}
	return notImplemented("Forcing a host through availability_zone")
}

// mayChooseHost is the policy on a create that picks its host: admins only.
func (rq *request) mayChooseHost(rule string) error {
	admin, err := rq.isAdmin()
	if err != nil {
		return err
	}
	if !admin {
		return policyForbidden(rule)
	}
	return nil
}

// createServers writes the planned servers: one, or max_count of them named as Nova names
// them ("name-1", "name-2", ...), and returns the first. It is all or nothing: when one
// cannot be made, those made before it are deleted and the error is returned. When a keyed
// create finds its first server made by an earlier create with the same key, it makes
// nothing and returns that server, with replayed set.
func (h *handler) createServers(rq *request, plan *serverPlan) (first *computev1.Server, replayed bool, err error) {
	var made []*computev1.Server
	for i := 0; i < plan.count; i++ {
		srv := &computev1.Server{
			ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, Annotations: map[string]string{}},
			Spec:       *plan.spec.DeepCopy(),
		}
		for k, v := range plan.annotations {
			srv.Annotations[k] = v
		}
		if plan.count > 1 {
			srv.Spec.Name = fmt.Sprintf("%s-%d", plan.spec.Name, i+1)
			srv.Annotations[annLaunchIndex] = strconv.Itoa(i)
		}
		if plan.describe {
			srv.Annotations[annDescription] = srv.Spec.Name
		}
		recordAction(srv, recordedAction{Action: "create", RequestID: rq.id, UserID: rq.userName(), StartTime: h.now().UTC()})
		if ic := plan.idempotent; ic != nil {
			srv.Name = ic.serverName(i)
			srv.Annotations[annIdempotency] = ic.fingerprint
			err = h.writer(rq.ctx).Create(rq.ctx, srv)
			if i == 0 && apierrors.IsAlreadyExists(err) {
				// A create with the same key got there first: its servers are this one's.
				prev, perr := h.previousCreate(rq.ctx, rq.caller.Tenant, ic)
				if perr == nil && prev == nil {
					perr = conflict("A request with this Idempotency-Key is being undone; use a new key for a new request.")
				}
				return prev, perr == nil, perr
			}
		} else {
			err = h.createNamed(rq.ctx, srv, "srv-")
		}
		if err != nil {
			h.undoCreate(rq.ctx, made)
			return nil, false, err
		}
		made = append(made, srv)
	}
	return made[0], false, nil
}

// undoCreate deletes the servers of a create that failed part of the way. It deletes as
// the shim (creators may not delete) and finishes even if the client has gone.
func (h *handler) undoCreate(ctx context.Context, made []*computev1.Server) {
	ctx = context.WithoutCancel(ctx)
	for _, srv := range made {
		uid := srv.UID
		if err := h.client.Delete(ctx, srv, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "Failed to delete a server of a create that failed", "server", srv.Name)
		}
	}
}

// createNamed creates obj under a fresh random name with the given prefix, trying again
// in the unlikely case the name is taken.
func (h *handler) createNamed(ctx context.Context, obj client.Object, prefix string) error {
	for attempt := 0; ; attempt++ {
		obj.SetName(prefix + randomString(10))
		err := h.writer(ctx).Create(ctx, obj)
		if apierrors.IsAlreadyExists(err) && attempt < 3 {
			continue
		}
		return err
	}
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

// parseNetworks reads "networks": a list of requests, or (from 2.37) "auto" or "none".
// Before 2.37 an absent list behaves as auto, without the error when nothing is there.
func parseNetworks(raw json.RawMessage) ([]nwRequest, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "legacy", nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		return nil, word, nil
	}
	var reqs []nwRequest
	if err := json.Unmarshal(raw, &reqs); err != nil {
		return nil, "", badRequest("Bad networks format")
	}
	ports := map[string]bool{}
	for _, r := range reqs {
		if r.Port != nil && *r.Port != "" {
			if ports[*r.Port] {
				return nil, "", badRequest("Port ID '%s' was specified twice: you cannot attach a port multiple times.", *r.Port)
			}
			if r.FixedIP != nil {
				return nil, "", badRequest("Specified Fixed IP '%s' cannot be used with port '%s': the two cannot be specified together.", *r.FixedIP, *r.Port)
			}
			ports[*r.Port] = true
			continue
		}
		if r.UUID == nil {
			return nil, "", badRequest("Bad network format: missing 'uuid'")
		}
		if !js.IsUUIDLike(*r.UUID) {
			return nil, "", badRequest("Bad networks format: network uuid is not in proper format (%s)", *r.UUID)
		}
	}
	return reqs, "", nil
}

// resolveNetworks turns requested networks into attachments. "auto" (and, before 2.37, no
// request at all) takes the one network the tenant can use: none is an error for auto and
// a server without ports before 2.37, more than one is ambiguous.
func (h *handler) resolveNetworks(rq *request, reqs []nwRequest, mode string) ([]computev1.NetworkAttachment, error) {
	out := []computev1.NetworkAttachment{}
	switch mode {
	case "none":
		return out, nil
	case "auto", "legacy":
		nets, err := h.availableNetworks(rq.ctx, rq.caller.Tenant)
		if err != nil {
			return nil, err
		}
		switch {
		case len(nets) == 1:
			return []computev1.NetworkAttachment{{Name: nets[0].Name}}, nil
		case len(nets) > 1:
			return nil, conflict("More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
		case mode == "auto":
			return nil, badRequest("Unable to automatically allocate a network for project %s", rq.caller.Tenant)
		}
		return out, nil
	}
	for _, r := range reqs {
		if r.Port != nil && *r.Port != "" {
			return nil, badRequest("Port id %s could not be found.", *r.Port)
		}
		net, ok, err := h.network(rq.ctx, rq.caller.Tenant, js.CanonicalUUID(*r.UUID))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badRequest("Network %s could not be found.", *r.UUID)
		}
		a := computev1.NetworkAttachment{Name: net.Name}
		if r.FixedIP != nil {
			a.FixedIP = *r.FixedIP
		}
		out = append(out, a)
	}
	return out, nil
}

// availableNetworks are the tenant's networks and the shared ones.
func (h *handler) availableNetworks(ctx context.Context, ns string) ([]computev1.Network, error) {
	var out []computev1.Network
	for _, n := range rules.VisibleNamespaces(ns, h.public) {
		var list computev1.NetworkList
		if err := h.cache.List(ctx, &list, client.InNamespace(n)); err != nil {
			return nil, err
		}
		for _, net := range list.Items {
			if rules.NetworkVisible(&net, ns) {
				out = append(out, net)
			}
		}
	}
	return out, nil
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

// Nova's generate_password draws from these groups, one character of each first.
var passwordGroups = []string{"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz"}

func generatePassword() string {
	all := strings.Join(passwordGroups, "")
	b := make([]byte, 0, passwordLength)
	for _, g := range passwordGroups {
		b = append(b, g[randInt(len(g))])
	}
	for len(b) < passwordLength {
		b = append(b, all[randInt(len(all))])
	}
	for i := len(b) - 1; i > 0; i-- {
		j := randInt(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(v.Int64())
}

const nameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString is a lower-case alphanumeric string for object names.
func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = nameAlphabet[randInt(len(nameAlphabet))]
	}
	return string(b)
}
