package novaapi

import (
	"encoding/json"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// POST /servers/{id}/action. The body names one action. Each is checked against the
// lifecycle before anything is written, so a refusal is Nova's 409 with Nova's message;
// then it becomes either a change of Server.spec (the desired state: stop, pause, rescue,
// resize, lock, shelve, ...) or a ServerAction (what has no desired-state form: reboot,
// rebuild, createImage, changePassword, confirmResize, revertResize, shelveOffload).

// serverActionDef is one action Nova's servers controller dispatches.
type serverActionDef struct {
	// schema validates the whole body, version by version; nil means none.
	schema func(apiVersion) *js.Schema
	// min and max bound the microversions it exists at (0 for none): outside, 404.
	min, max int
	run      func(h *handler, rq *request, srv *computev1.Server, arg any) error
}

func fixed(s *js.Schema) func(apiVersion) *js.Schema { return func(apiVersion) *js.Schema { return s } }

var serverActionDefs = map[string]serverActionDef{
	"os-stop":        {run: specAction(lifecycle.ActionStop, "stop")},
	"os-start":       {run: specAction(lifecycle.ActionStart, "start")},
	"pause":          {run: specAction(lifecycle.ActionPause, "pause")},
	"unpause":        {run: specAction(lifecycle.ActionUnpause, "unpause")},
	"suspend":        {run: specAction(lifecycle.ActionSuspend, "suspend")},
	"resume":         {run: specAction(lifecycle.ActionResume, "resume")},
	"shelve":         {run: specAction(lifecycle.ActionShelve, "shelve")},
	"unrescue":       {run: specAction(lifecycle.ActionUnrescue, "unrescue")},
	"unshelve":       {run: (*handler).unshelve, schema: schemas.Unshelve},
	"rescue":         {run: (*handler).rescue, schema: fixed(schemas.Rescue)},
	"resize":         {run: (*handler).resize, schema: fixed(schemas.Resize)},
	"lock":           {run: (*handler).lock, schema: schemas.Lock},
	"unlock":         {run: (*handler).unlock},
	"reboot":         {run: (*handler).reboot, schema: fixed(schemas.Reboot)},
	"rebuild":        {run: (*handler).rebuild, schema: schemas.Rebuild},
	"createImage":    {run: (*handler).createImage, schema: fixed(schemas.CreateImage)},
	"changePassword": {run: (*handler).changePassword, schema: fixed(schemas.ChangePassword)},
	"confirmResize":  {run: oneShot(computev1.ActionConfirmResize, http.StatusNoContent)},
	"revertResize":   {run: oneShot(computev1.ActionRevertResize, http.StatusAccepted)},
	"shelveOffload":  {run: oneShot(computev1.ActionShelveOffload, http.StatusAccepted)},

	// Nova has these; Kova does not have them yet, and says so (501). The proxy actions
	// end at 2.43, the console actions at 2.5; trigger_crash_dump starts at 2.17.
	"addSecurityGroup":     {run: unimplementedAction("addSecurityGroup")},
	"removeSecurityGroup":  {run: unimplementedAction("removeSecurityGroup")},
	"addFloatingIp":        {run: unimplementedAction("addFloatingIp"), max: 43},
	"removeFloatingIp":     {run: unimplementedAction("removeFloatingIp"), max: 43},
	"addFixedIp":           {run: unimplementedAction("addFixedIp"), max: 43},
	"removeFixedIp":        {run: unimplementedAction("removeFixedIp"), max: 43},
	"os-migrateLive":       {run: unimplementedAction("os-migrateLive")},
	"migrate":              {run: unimplementedAction("migrate")},
	"evacuate":             {run: unimplementedAction("evacuate")},
	"forceDelete":          {run: unimplementedAction("forceDelete")},
	"restore":              {run: unimplementedAction("restore")},
	"trigger_crash_dump":   {run: unimplementedAction("trigger_crash_dump"), min: 17, schema: fixed(schemas.TriggerCrashDump)},
	"createBackup":         {run: unimplementedAction("createBackup")},
	"os-resetState":        {run: unimplementedAction("os-resetState")},
	"injectNetworkInfo":    {run: unimplementedAction("injectNetworkInfo")},
	"resetNetwork":         {run: unimplementedAction("resetNetwork")},
	"os-getConsoleOutput":  {run: unimplementedAction("os-getConsoleOutput")},
	"os-getVNCConsole":     {run: unimplementedAction("os-getVNCConsole"), max: 5},
	"os-getSPICEConsole":   {run: unimplementedAction("os-getSPICEConsole"), max: 5},
	"os-getRDPConsole":     {run: unimplementedAction("os-getRDPConsole"), max: 5},
	"os-getSerialConsole":  {run: unimplementedAction("os-getSerialConsole"), max: 5},
	"os-resetNetwork":      {run: unimplementedAction("os-resetNetwork")},
	"os-injectNetworkInfo": {run: unimplementedAction("os-injectNetworkInfo")},
}

func (h *handler) serverAction(rq *request) error {
	body, berr := rq.decodedBody()
	if berr != nil {
		return berr
	}
	obj, ok := body.(*js.Object)
	if !ok || obj.Len() != 1 {
		return badRequest(msgMalformed)
	}
	name := obj.Keys()[0]
	def, ok := serverActionDefs[name]
	if !ok {
		return badRequest("There is no such action: %s", name)
	}
	if (def.min > 0 && !rq.version.AtLeast(def.min)) || (def.max > 0 && !rq.version.AtMost(def.max)) {
		return notFound(msgResourceNotFound)
	}
	if def.schema != nil {
		if s := def.schema(rq.version); s != nil {
			if err := validateBody(s, body); err != nil {
				return err
			}
		}
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	arg, _ := obj.Get(name)
	return def.run(h, rq, srv, arg)
}

func unimplementedAction(name string) func(*handler, *request, *computev1.Server, any) error {
	return func(*handler, *request, *computev1.Server, any) error {
		return notImplemented("The " + name + " action")
	}
}

// specAction is an action whose desired-state form is a change of Server.spec: the power
// state or rescue that rules.ApplyAction says it asks for.
func specAction(a lifecycle.Action, novaName string) func(*handler, *request, *computev1.Server, any) error {
	return func(h *handler, rq *request, srv *computev1.Server, _ any) error {
		if _, err := h.changeSpec(rq, srv, a, novaName, func(s *computev1.Server) error {
			rules.ApplyAction(&s.Spec, a)
			return nil
		}); err != nil {
			return err
		}
		return rq.json(http.StatusAccepted, nil)
	}
}

// changeSpec checks a against the server as it is (read again when the cache was
// stale), applies change, records the action and writes it.
func (h *handler) changeSpec(rq *request, srv *computev1.Server, a lifecycle.Action, novaName string, change func(*computev1.Server) error) (*computev1.Server, error) {
	return h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		st, err := h.serverState(rq.ctx, s)
		if err != nil {
			return err
		}
		if err := rq.check(a, s, st); err != nil {
			return err
		}
		if err := change(s); err != nil {
			return err
		}
		recordAction(s, recordedAction{Action: novaName, RequestID: rq.id, UserID: rq.userName(), StartTime: h.now().UTC()})
		return nil
	})
}

// lock locks a server; locking a locked one changes nothing (not even the reason), as in
// Nova.
func (h *handler) lock(rq *request, srv *computev1.Server, arg any) error {
	reason := ""
	if obj, ok := arg.(*js.Object); ok && rq.version.AtLeast(73) {
		if v, ok := obj.Get("locked_reason"); ok {
			reason, _ = v.(string)
		}
	}
	_, err := h.changeSpec(rq, srv, lifecycle.ActionLock, "lock", func(s *computev1.Server) error {
		if s.Spec.Locked {
			return nil
		}
		s.Spec.Locked, s.Spec.LockedReason = true, reason
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) unlock(rq *request, srv *computev1.Server, _ any) error {
	_, err := h.changeSpec(rq, srv, lifecycle.ActionUnlock, "unlock", func(s *computev1.Server) error {
		s.Spec.Locked, s.Spec.LockedReason = false, ""
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// rescue answers 200 with the rescue password, which is handed back and kept nowhere.
func (h *handler) rescue(rq *request, srv *computev1.Server, arg any) error {
	password := generatePassword()
	if obj, ok := arg.(*js.Object); ok {
		if v, ok := obj.Get("adminPass"); ok {
			password, _ = v.(string)
		}
		if _, ok := obj.Get("rescue_image_ref"); ok {
			return notImplemented("Rescue from another image (rescue_image_ref)")
		}
	}
	if _, err := h.changeSpec(rq, srv, lifecycle.ActionRescue, "rescue", func(s *computev1.Server) error {
		rules.ApplyAction(&s.Spec, lifecycle.ActionRescue)
		return nil
	}); err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"adminPass": password})
}

func (h *handler) unshelve(rq *request, srv *computev1.Server, arg any) error {
	if obj, ok := arg.(*js.Object); ok && rq.version.AtLeast(77) {
		if v, ok := obj.Get("availability_zone"); ok {
			az, _ := v.(string)
			if az != orDefault(srv.Spec.AvailabilityZone, defaultAZ) {
				return badRequest("The requested availability zone is not available")
			}
		}
	}
	if _, err := h.changeSpec(rq, srv, lifecycle.ActionUnshelve, "unshelve", func(s *computev1.Server) error {
		rules.ApplyAction(&s.Spec, lifecycle.ActionUnshelve)
		return nil
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// resize takes flavorRef as given (Nova's resize does not strip a URL).
func (h *handler) resize(rq *request, srv *computev1.Server, arg any) error {
	obj := arg.(*js.Object)
	ref, _ := obj.Get("flavorRef")
	flavorID := js.Str(ref)
	_, err := h.changeSpec(rq, srv, lifecycle.ActionResize, "resize", func(s *computev1.Server) error {
		f, err := h.usableFlavor(rq, flavorID)
		if err != nil {
			return err
		}
		if f == nil {
			return badRequest("Flavor %s could not be found.", flavorID)
		}
		if f.Name == serverFlavorID(s) {
			return badRequest("When resizing, instances must change flavor!")
		}
		if img, err := h.imageByName(rq.ctx, s.Namespace, s.Spec.ImageRef); err != nil {
			return err
		} else if img != nil {
			if err := fitsImage(f, img); err != nil {
				return err
			}
		}
		s.Spec.FlavorRef = f.Name
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// oneShot is an action with no desired-state form and no parameters: a ServerAction.
func oneShot(t computev1.ActionType, code int) func(*handler, *request, *computev1.Server, any) error {
	return func(h *handler, rq *request, srv *computev1.Server, _ any) error {
		if _, err := h.startAction(rq, srv, t, nil); err != nil {
			return err
		}
		return rq.json(code, nil)
	}
}

func (h *handler) reboot(rq *request, srv *computev1.Server, arg any) error {
	typ, _ := arg.(*js.Object).Get("type")
	kind := strings.ToUpper(typ.(string))
	if _, err := h.startAction(rq, srv, computev1.ActionReboot, func(s *computev1.ServerActionSpec) {
		s.Reboot = &computev1.RebootParams{Type: kind}
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) changePassword(rq *request, srv *computev1.Server, arg any) error {
	pw, _ := arg.(*js.Object).Get("adminPass")
	if err := h.checkAction(rq, srv, lifecycle.ActionChangePassword); err != nil {
		return err
	}
	// The password goes into a Secret, never into the action. The action is written first
	// and the Secret after it, owned by it from its first write: a crash at any instant
	// leaves either an action that fails for want of its Secret or a Secret that the
	// controller deletes when the action ends (and garbage collection with the action).
	name := actionName(srv, computev1.ActionChangePassword)
	sa, err := h.createAction(rq, srv, name, computev1.ActionChangePassword, func(s *computev1.ServerActionSpec) {
		s.ChangePassword = &computev1.ChangePasswordParams{SecretName: name}
	})
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: name,
			Labels: map[string]string{computev1.LabelServer: srv.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: computev1.GroupVersion.String(), Kind: "ServerAction",
				Name: sa.Name, UID: sa.UID}}},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"password": pw.(string)},
	}
	if err := h.client.Create(rq.ctx, secret); err != nil {
		return err
	}
	// A Secret that came after its action ended (refused, or tired of waiting for it) is of
	// no use: take it back.
	now := &computev1.ServerAction{}
	if err := h.client.Get(rq.ctx, client.ObjectKeyFromObject(sa), now); err == nil && now.Status.Phase == computev1.ActionFailed {
		_ = h.client.Delete(rq.ctx, secret)
	}
	return rq.json(http.StatusAccepted, nil)
}

// checkAction checks a ServerAction's lifecycle action against the server now.
func (h *handler) checkAction(rq *request, srv *computev1.Server, a lifecycle.Action) error {
	st, err := h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	return rq.check(a, srv, st)
}

// startAction checks and creates a ServerAction.
func (h *handler) startAction(rq *request, srv *computev1.Server, t computev1.ActionType, params func(*computev1.ServerActionSpec)) (*computev1.ServerAction, error) {
	probe := &computev1.ServerAction{Spec: computev1.ServerActionSpec{Action: t}}
	if params != nil {
		params(&probe.Spec)
	}
	if err := h.checkAction(rq, srv, rules.LifecycleAction(probe)); err != nil {
		return nil, err
	}
	return h.createAction(rq, srv, actionName(srv, t), t, params)
}

func actionName(srv *computev1.Server, t computev1.ActionType) string {
	return srv.Name + "-" + strings.ToLower(string(t)) + "-" + randomString(6)
}

// createAction writes a ServerAction with the request's id and the caller as requester
// (the admission webhook stamps the requester again from the real request).
func (h *handler) createAction(rq *request, srv *computev1.Server, name string, t computev1.ActionType, params func(*computev1.ServerActionSpec)) (*computev1.ServerAction, error) {
	sa := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   srv.Namespace,
			Name:        name,
			Labels:      map[string]string{computev1.LabelServer: srv.Name},
			Annotations: map[string]string{annUserID: rq.userName()},
		},
		Spec: computev1.ServerActionSpec{
			ServerName:  srv.Name,
			Action:      t,
			RequestedBy: rq.userName(),
			RequestID:   rq.id,
		},
	}
	if params != nil {
		params(&sa.Spec)
	}
	// Named on the server first, so that once this answers, every replica shows its task.
	if err := h.noteAction(rq.ctx, srv, name); err != nil {
		return nil, err
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, sa); err != nil {
		return nil, err
	}
	return sa, nil
}

// rebuild is a ServerAction; the name, metadata and other attributes it sets change the
// server as they do in Nova. The answer is the server as it now is, rebuilding.
func (h *handler) rebuild(rq *request, srv *computev1.Server, _ any) error {
	var body struct {
		Rebuild struct {
			serverAttrs
			ImageRef    string            `json:"imageRef"`
			AdminPass   *string           `json:"adminPass"`
			Metadata    map[string]string `json:"metadata"`
			Personality []json.RawMessage `json:"personality"`
			KeyName     json.RawMessage   `json:"key_name"`
			UserData    json.RawMessage   `json:"user_data"`
			Trusted     json.RawMessage   `json:"trusted_image_certificates"`
		} `json:"rebuild"`
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
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, js.CanonicalUUID(b.ImageRef))
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("Cannot find image for rebuild")
	}
	if img.Status.Status != computev1.ImageActive {
		return badRequest("Image %s is not active.", img.UID)
	}
	if f, err := h.flavor(rq.ctx, serverFlavorID(srv)); err != nil {
		return err
	} else if f != nil {
		if err := fitsImage(f, img); err != nil {
			return err
		}
	}
	if len(b.Metadata) > maxMetaItems {
		return forbidden("Maximum number of metadata items exceeds %d", maxMetaItems)
	}
	if len(b.Personality) > 0 {
		return notImplemented("File injection (personality)")
	}
	if rq.version.AtLeast(54) && b.KeyName != nil {
		var k *string
		_ = json.Unmarshal(b.KeyName, &k)
		cur, _ := keyName(srv).(string)
		if k == nil && cur != "" || k != nil && *k != cur {
			return notImplemented("Changing the keypair on rebuild")
		}
	}
	if rq.version.AtLeast(57) && b.UserData != nil {
		var u *string
		_ = json.Unmarshal(b.UserData, &u)
		if u == nil && srv.Spec.UserData != "" || u != nil && *u != srv.Spec.UserData {
			return notImplemented("Changing user_data on rebuild")
		}
	}
	if rq.version.AtLeast(63) && b.Trusted != nil && string(b.Trusted) != "null" {
		return notImplemented("Trusted image certificates")
	}

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
	if _, err := h.createAction(rq, srv, actionName(srv, computev1.ActionRebuild), computev1.ActionRebuild, func(s *computev1.ServerActionSpec) {
		s.Rebuild = &computev1.RebuildParams{ImageRef: img.Name}
	}); err != nil {
		return err
	}
	st := lifecycle.Begin(lifecycle.ActionRebuild, rules.ObservedState(srv))
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

// createImage makes a ServerAction and the Image it fills, so the image's id can be
// answered at once, as Nova answers it (queued in Glance before the snapshot starts).
// The Image is made exactly as the controller would make it, under the name the
// controller gives it, so whichever of the two comes first, there is one image.
func (h *handler) createImage(rq *request, srv *computev1.Server, arg any) error {
	var body struct {
		CreateImage struct {
			Name     string            `json:"name"`
			Metadata map[string]string `json:"metadata"`
		} `json:"createImage"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	ci := body.CreateImage
	if err := h.checkAction(rq, srv, lifecycle.ActionCreateImage); err != nil {
		return err
	}
	if !rq.version.AtLeast(39) && len(ci.Metadata) > maxMetaItems {
		return forbidden("Image metadata limit exceeded")
	}
	sa, err := h.createAction(rq, srv, actionName(srv, computev1.ActionCreateImage), computev1.ActionCreateImage, func(s *computev1.ServerActionSpec) {
		s.CreateImage = &computev1.CreateImageParams{ImageName: ci.Name, Metadata: ci.Metadata}
	})
	if err != nil {
		return err
	}
	img := rules.SnapshotImage(srv, sa)
	err = h.writer(rq.ctx).Create(rq.ctx, img)
	if apierrors.IsAlreadyExists(err) {
		err = h.client.Get(rq.ctx, client.ObjectKeyFromObject(img), img)
	}
	if err != nil {
		return err
	}
	id := string(img.UID)
	if rq.version.AtLeast(45) {
		return rq.json(http.StatusAccepted, map[string]any{"image_id": id})
	}
	rq.w.Header().Set("Location", rq.selfHref("images", id))
	return rq.json(http.StatusAccepted, nil)
}
