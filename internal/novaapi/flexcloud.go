package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// FlexCloud (seed 003): POST /accounts/{accountId}/flexcloud/servers. The serving layer
// strips the prefix, puts the account in Caller.Tenant and the prefix in Caller.Root.
// References are absolute URLs (.../images/{id}/, .../flavors/{id}/,
// .../os-security-groups/{id}/); errors carry "details" and an "errorid", and every 400
// is a computeFault.

// FlexCloud returns the handler of the FlexCloud server-create call.
func FlexCloud(cfg Config) http.Handler {
	h := newHandler(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := CallerFrom(r.Context())
		if !ok || caller.User == nil {
			writeFlexFault(w, http.StatusUnauthorized, "unauthorized", "Authentication required")
			return
		}
		caller.Root = strings.TrimRight(caller.Root, "/")
		rq := &request{h: h, w: w, r: r, ctx: r.Context(), caller: caller, id: "req-" + uuid.NewString()}
		if strings.Trim(r.URL.Path, "/") != "servers" || r.Method != http.MethodPost {
			writeFlexFault(w, http.StatusNotFound, "itemNotFound", "Resource not found")
			return
		}
		if err := rq.readBody(); err != nil {
			writeFlexFault(w, err.code, faultName(err.code), err.message)
			return
		}
		h.flexCreate(rq)
	})
}

type flexFault struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	Details string `json:"details"`
	ErrorID string `json:"errorid"`
}

func writeFlexFault(w http.ResponseWriter, code int, key, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(marshal(map[string]flexFault{key: {Message: msg, Code: code, ErrorID: uuid.NewString()}}))
}

// badFlex is FlexCloud's 400: a computeFault.
func badFlex(w http.ResponseWriter, msg string) {
	writeFlexFault(w, http.StatusBadRequest, "computeFault", msg)
}

// lastSegment is the id at the end of a reference URL, trailing slash or not.
func lastSegment(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Path != "" {
		ref = u.Path
	}
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	return ref
}

// writeFlexError writes an error in FlexCloud's body, where every 400 is a computeFault.
func writeFlexError(w http.ResponseWriter, err error) {
	if apierrors.IsNotFound(err) {
		writeFlexFault(w, http.StatusNotFound, "itemNotFound", "Resource not found")
		return
	}
	ae := asAPIError(err)
	key := faultName(ae.code)
	if ae.code == http.StatusBadRequest {
		key = "computeFault"
	}
	writeFlexFault(w, ae.code, key, ae.message)
}

// flexCreateServer makes the one server of a FlexCloud create, on every network the
// account can use, within the same instance quota as /v2.1's creates.
func (h *handler) flexCreateServer(rq *request, name, zone, group string, flavor *computev1.Flavor, img *computev1.Image, ic *idempotentCreate) (*computev1.Server, bool, error) {
	nets, err := h.availableNetworks(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return nil, false, err
	}
	attach := []computev1.NetworkAttachment{}
	for _, n := range nets {
		if len(attach) < 16 {
			attach = append(attach, computev1.NetworkAttachment{Name: n.Name})
		}
	}
	count, err := h.serversToCreate(rq.ctx, rq.caller.Tenant, flavor, oneInstance(), oneInstance())
	if err != nil {
		return nil, false, err
	}
	return h.createServers(rq, &serverPlan{
		count: count,
		spec: computev1.ServerSpec{
			Name: name, FlavorRef: flavor.Name, ImageRef: rules.ImageRef(img, rq.caller.Tenant, h.public), Networks: attach,
			PowerState: computev1.PowerActive, AvailabilityZone: zone, SecurityGroups: []string{group},
		},
		annotations: map[string]string{annUserID: rq.userName(), annReservationID: "r-" + randomString(8)},
		idempotent:  ic,
	})
}

// flexImage is the image a FlexCloud create names, if the account may boot from it: by id,
// or by name (FlexCloud image ids are names as well, "test_public_image").
func (h *handler) flexImage(ctx context.Context, tenant, imageID string) (*computev1.Image, bool, error) {
	img, ok, err := h.image(ctx, tenant, imageID)
	if err == nil && !ok && imageID != "" {
		img, err = h.imageByName(ctx, tenant, imageID)
		ok = img != nil
	}
	if err != nil || !ok {
		return nil, false, err
	}
	ok, err = h.imageUsable(ctx, tenant, img)
	return img, ok, err
}

func (h *handler) flexCreate(rq *request) {
	w, ctx := rq.w, rq.ctx
	// An account is a namespace. Without the right to read namespaces, the create itself
	// says whether the namespace is there.
	ns := &corev1.Namespace{}
	if err := h.client.Get(ctx, client.ObjectKey{Name: rq.caller.Tenant}, ns); err != nil && !apierrors.IsForbidden(err) {
		if apierrors.IsNotFound(err) {
			writeFlexFault(w, http.StatusNotFound, "itemNotFound", "Resource not found")
			return
		}
		writeFlexFault(w, http.StatusInternalServerError, "computeFault", err.Error())
		return
	}
	var body struct {
		Server *struct {
			Name             string `json:"name"`
			ImageRef         string `json:"imageRef"`
			FlavorRef        string `json:"flavorRef"`
			SecurityGroupRef string `json:"securityGroupRef"`
			AdminPass        string `json:"adminPass"`
			Zone             string `json:"zone"`
		} `json:"server"`
	}
	dec := json.NewDecoder(strings.NewReader(string(rq.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Server == nil {
		badFlex(w, "Bad request body")
		return
	}
	s := body.Server
	if s.Name == "" || !js.ValidName(s.Name) || len([]rune(s.Name)) > 255 {
		badFlex(w, "Bad name")
		return
	}

	imageID := lastSegment(s.ImageRef)
	img, ok, err := h.flexImage(ctx, rq.caller.Tenant, imageID)
	if err != nil {
		writeFlexFault(w, http.StatusInternalServerError, "computeFault", err.Error())
		return
	}
	if !ok || img.Status.Status != computev1.ImageActive {
		badFlex(w, "Bad imageRef")
		return
	}
	flavor, err := h.flavor(ctx, lastSegment(s.FlavorRef))
	if err != nil {
		writeFlexFault(w, http.StatusInternalServerError, "computeFault", err.Error())
		return
	}
	if flavor == nil || !flavor.Spec.IsPublic {
		badFlex(w, "Bad flavorRef")
		return
	}
	if fitsImage(flavor, img) != nil {
		badFlex(w, "Bad flavorRef")
		return
	}
	// securityGroupRef names a group of the account by id (or "default"); none means the
	// default group, as in Nova.
	sgID, group, err := h.flexSecurityGroup(rq, s.SecurityGroupRef)
	if err != nil {
		writeFlexError(w, err)
		return
	}
	if group == "" {
		badFlex(w, "Bad securityGroupRef")
		return
	}
	// The same checks as /v2.1's create, in the same words.
	if err := rq.checkZone(s.Zone); err != nil {
		writeFlexError(w, err)
		return
	}
	ic, err := rq.idempotency("flexcloud")
	if err != nil {
		writeFlexError(w, err)
		return
	}
	srv, err := h.previousCreate(ctx, rq.caller.Tenant, ic)
	if err != nil {
		writeFlexError(w, err)
		return
	}
	replayed := srv != nil
	password := s.AdminPass
	if !replayed {
		if srv, replayed, err = h.flexCreateServer(rq, s.Name, s.Zone, group, flavor, img, ic); err != nil {
			writeFlexError(w, err)
			return
		}
		if password == "" && !replayed {
			password = generatePassword()
		}
	}
	id := string(srv.UID)
	root := rq.caller.Root
	self := root + "/servers/" + id + "/"
	out := views.NewFlexServer(id, s.Name, s.Zone, rq.userName(), []link{{Href: self, Rel: "self"}},
		views.NamedRef{Name: img.DisplayName(), ID: imageID, Links: []link{{Href: root + "/images/" + imageID + "/", Rel: "self"}}},
		views.NamedRef{Name: flavor.DisplayName(), ID: flavor.Name, Links: []link{{Href: root + "/flavors/" + flavor.Name + "/", Rel: "self"}}})
	// A generated password is given once: a retry's answer has none (see createServer).
	out.AdminPass = password
	if sgID != "" {
		out.SecurityGroup = &views.Ref{ID: sgID, Links: []link{{Href: root + "/os-security-groups/" + sgID + "/", Rel: "self"}}}
	}
	w.Header().Set("Location", self)
	_ = rq.json(http.StatusAccepted, map[string]any{"server": out})
}

// flexSecurityGroup is the group a securityGroupRef names, by id (or "default"): its id as
// the answer shows it and its name; no name when the account has no such group.
func (h *handler) flexSecurityGroup(rq *request, ref string) (id, name string, err error) {
	if ref == "" {
		return "", rules.DefaultSecurityGroup, nil
	}
	id = lastSegment(ref)
	groups, err := h.securityGroups(rq.ctx, rq.caller.Tenant)
	if err != nil {
		return "", "", err
	}
	found := rules.SecurityGroupsNamed(groups, id)
	if len(found) != 1 || (string(found[0].UID) != id && id != rules.DefaultSecurityGroup) {
		return id, "", nil
	}
	return id, found[0].DisplayName(), nil
}
