package novaapi

import (
	"encoding/json"
	"net/http"

	"k8s.io/utils/ptr"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// The rebuild action: a ServerAction, and the attributes it changes on the server.

// rebuildBody is the rebuild action's body, read once it is valid.
type rebuildBody struct {
	serverAttrs
	ImageRef    string            `json:"imageRef"`
	AdminPass   *string           `json:"adminPass"`
	Metadata    map[string]string `json:"metadata"`
	Personality []json.RawMessage `json:"personality"`
	KeyName     json.RawMessage   `json:"key_name"`
	UserData    json.RawMessage   `json:"user_data"`
	Trusted     json.RawMessage   `json:"trusted_image_certificates"`
}

// rebuild is a ServerAction; the name, metadata and other attributes it sets change the
// server as they do in Nova. The answer is the server as it now is, rebuilding.
func (h *handler) rebuild(rq *request, srv *computev1.Server, _ any) error {
	var body struct {
		Rebuild rebuildBody `json:"rebuild"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	b := body.Rebuild
	password := generatePassword()
	if b.AdminPass != nil {
		password = *b.AdminPass
	}
	if err := h.checkAction(rq, srv, lifecycle.ActionRebuild); err != nil {
		return err
	}
	img, err := h.rebuildImage(rq, srv, b.ImageRef)
	if err != nil {
		return err
	}
	if err := rq.checkRebuildAsks(&b); err != nil {
		return err
	}
	params := &computev1.RebuildParams{ImageRef: rules.ImageRef(img, rq.caller.Tenant, h.public)}
	if params.KeyName, err = rq.rebuildKeyName(&b); err != nil {
		return err
	}
	params.UserData = rq.rebuildUserData(&b)
	if b.given() || b.Metadata != nil {
		// The name, description, metadata and the like are what the caller declares the
		// server to be, as PUT /servers/{id} does; the image is not (status.image shows it).
		srv, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
			b.apply(s)
			if b.Metadata != nil {
				s.Spec.Metadata = b.Metadata
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := h.createAction(rq, srv, actionName(srv, computev1.ActionRebuild), computev1.ActionRebuild, func(s *computev1.ServerActionSpec) {
		s.Rebuild = params
	}); err != nil {
		return err
	}
	st := lifecycle.Begin(lifecycle.ActionRebuild, rules.ObservedState(srv))
	// The answer shows the keypair and user data the rebuild gives, as every read after it
	// does (rules.ProjectedState) until the controller records them.
	srv = srv.DeepCopy()
	rules.ApplyRebuild(&srv.Status, params)
	imageID := string(img.UID)
	full := rq.version.AtLeast(75)
	v, err := rq.buildServer(srv, st, serverView{ServerShape: views.ServerShape{Full: full, Rebuild: true,
		KeyName: rq.version.AtLeast(54), UserData: rq.version.AtLeast(57)}, imageID: &imageID})
	if err != nil {
		return err
	}
	v.AdminPass = password
	rq.w.Header().Set("Location", rq.selfHref("servers", string(srv.UID)))
	return rq.json(http.StatusAccepted, map[string]any{"server": v})
}

// rebuildImage is the image a rebuild asks for, if the caller sees it, it is active, and
// it fits the server's flavor.
func (h *handler) rebuildImage(rq *request, srv *computev1.Server, ref string) (*computev1.Image, error) {
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, js.CanonicalUUID(ref))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("Cannot find image for rebuild")
	}
	if usable, err := h.imageUsable(rq.ctx, rq.caller.Tenant, img); err != nil {
		return nil, err
	} else if !usable {
		return nil, badRequest("%s", (&rules.ImageNotAcceptedError{ID: string(img.UID), Tenant: rq.caller.Tenant}).Error())
	}
	if img.Status.Status != computev1.ImageActive {
		return nil, badRequest("Image %s is not active.", img.UID)
	}
	if f, err := h.flavor(rq.ctx, serverFlavorID(srv)); err != nil {
		return nil, err
	} else if f != nil {
		if err := fitsImage(f, img); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// checkRebuildAsks refuses what a rebuild asks that Kova cannot do: too much metadata,
// files, and trusted certificates (2.63).
func (rq *request) checkRebuildAsks(b *rebuildBody) error {
	if len(b.Metadata) > maxMetaItems {
		return forbidden("Maximum number of metadata items exceeds %d", maxMetaItems)
	}
	if len(b.Personality) > 0 {
		return notImplemented("File injection (personality)")
	}
	if rq.version.AtLeast(63) && b.Trusted != nil && string(b.Trusted) != "null" {
		return notImplemented("Trusted image certificates")
	}
	return nil
}

// rebuildKeyName is the keypair a rebuild gives the server (2.54): nil when it does not
// say, "" for null (none), else the Nova name of the caller's keypair it names, looked up
// among the caller's keypairs as Nova does (users own keypairs; another user of the
// project may rebuild the server).
func (rq *request) rebuildKeyName(b *rebuildBody) (*string, error) {
	if !rq.version.AtLeast(54) || b.KeyName == nil {
		return nil, nil
	}
	var name *string
	if err := json.Unmarshal(b.KeyName, &name); err != nil {
		return nil, badRequest(msgMalformed)
	}
	if name == nil {
		return ptr.To(""), nil
	}
	kp, err := rq.h.keypair(rq.ctx, rq.caller.Tenant, rq.userName(), *name)
	if err != nil {
		return nil, err
	}
	if kp == nil {
		return nil, badRequest("Invalid key_name provided.")
	}
	return ptr.To(kp.NovaName()), nil
}

// rebuildUserData is the user data a rebuild gives the server (2.57): nil when it does not
// say, "" for null (none). The schema has checked it is base64 of at most 64 KiB.
func (rq *request) rebuildUserData(b *rebuildBody) *string {
	if !rq.version.AtLeast(57) || b.UserData == nil {
		return nil
	}
	var data *string
	_ = json.Unmarshal(b.UserData, &data)
	return ptr.To(ptr.Deref(data, ""))
}
