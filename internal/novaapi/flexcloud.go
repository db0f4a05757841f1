package novaapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
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
	if s.Name == "" || !validName(s.Name) || len([]rune(s.Name)) > 255 {
		badFlex(w, "Bad name")
		return
	}

	imageID := lastSegment(s.ImageRef)
	img, ok, err := h.image(ctx, rq.caller.Tenant, imageID)
	if err == nil && !ok && imageID != "" {
		// FlexCloud image ids are names as well ("test_public_image").
		img, err = h.imageByName(ctx, rq.caller.Tenant, imageID)
		ok = img != nil
	}
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
	sgID := ""
	if s.SecurityGroupRef != "" {
		// Kova has one security group per tenant: default.
		if sgID = lastSegment(s.SecurityGroupRef); sgID != "default" {
			badFlex(w, "Bad securityGroupRef")
			return
		}
	}
	nets, err := h.availableNetworks(ctx, rq.caller.Tenant)
	if err != nil {
		writeFlexFault(w, http.StatusInternalServerError, "computeFault", err.Error())
		return
	}
	attach := []computev1.NetworkAttachment{}
	for _, n := range nets {
		if len(attach) < 16 {
			attach = append(attach, computev1.NetworkAttachment{Name: n.Name})
		}
	}
	password := s.AdminPass
	if password == "" {
		password = generatePassword()
	}
	plan := &serverPlan{
		count: 1,
		spec: computev1.ServerSpec{
			Name: s.Name, FlavorRef: flavor.Name, ImageRef: img.Name, Networks: attach,
			PowerState: computev1.PowerActive, AvailabilityZone: s.Zone,
		},
		annotations: map[string]string{annUserID: rq.userName(), annReservationID: "r-" + randomString(8)},
		password:    password,
	}
	created, err := h.createServers(rq, plan)
	if apierrors.IsNotFound(err) {
		writeFlexFault(w, http.StatusNotFound, "itemNotFound", "Resource not found")
		return
	}
	if err != nil {
		ae := asAPIError(err)
		key := faultName(ae.code)
		if ae.code == http.StatusBadRequest {
			key = "computeFault"
		}
		writeFlexFault(w, ae.code, key, ae.message)
		return
	}
	srv := created[0]
	id := string(srv.UID)
	root := rq.caller.Root
	self := root + "/servers/" + id + "/"
	out := map[string]any{
		"status":    "BUILD",
		"updated":   nil,
		"hostId":    "",
		"addresses": map[string]any{},
		"links":     []link{{Href: self, Rel: "self"}},
		"image": map[string]any{
			"name":  img.DisplayName(),
			"links": []link{{Href: root + "/images/" + imageID + "/", Rel: "self"}},
			"id":    imageID,
		},
		"userId": rq.userName(),
		"flavor": map[string]any{
			"name":  flavor.DisplayName(),
			"links": []link{{Href: root + "/flavors/" + flavor.Name + "/", Rel: "self"}},
			"id":    flavor.Name,
		},
		"id":         id,
		"zone":       s.Zone,
		"name":       s.Name,
		"adminPass":  password,
		"created":    "",
		"tenantId":   nil,
		"accessIPv4": "",
		"accessIPv6": nil,
		"progress":   0,
		"metadata":   map[string]any{},
	}
	if sgID != "" {
		out["securityGroup"] = map[string]any{
			"id":    sgID,
			"links": []link{{Href: root + "/os-security-groups/" + sgID + "/", Rel: "self"}},
		}
	}
	w.Header().Set("Location", self)
	_ = rq.json(http.StatusAccepted, map[string]any{"server": out})
}
