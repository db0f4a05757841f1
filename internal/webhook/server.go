package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// The Server validating webhook is not called for an update that changes nothing but the
// REST shim's own notes on a server (the action it accepted last, the floating IPs it
// pointed at the server last: internal/novaapi), which it writes on every action: nothing
// ValidateUpdate checks can change in such an update, and the round trip was a fifth of an
// os-stop's POST.
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-server,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=compute.kova.dev,resources=servers,verbs=create;update;delete,versions=v1alpha1,name=vserver.compute.kova.dev,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"not-only-the-shims-notes","expression":"request.operation != 'UPDATE' || has(object.metadata.deletionTimestamp) || object.spec != oldObject.spec || object.metadata.?labels.orValue({}) != oldObject.metadata.?labels.orValue({}) || object.metadata.?finalizers.orValue([]) != oldObject.metadata.?finalizers.orValue([]) || object.metadata.?annotations.orValue({}).exists(k, !(k in ['nova.kova.dev/pending-action', 'nova.kova.dev/floating-ips']) && (!(k in oldObject.metadata.?annotations.orValue({})) || oldObject.metadata.annotations[k] != object.metadata.annotations[k])) || oldObject.metadata.?annotations.orValue({}).exists(k, !(k in ['nova.kova.dev/pending-action', 'nova.kova.dev/floating-ips']) && !(k in object.metadata.?annotations.orValue({})))"}]}`

// The Server mutating webhook is called for an update only when it takes a creation-time
// label away (a kubectl replace of a manifest that never had them), to put it back.
// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-server,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=servers,verbs=create;update,versions=v1alpha1,name=mserver.compute.kova.dev,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"creation-labels-taken-away","expression":"request.operation != 'UPDATE' || oldObject.metadata.?labels.orValue({}).exists(k, k in ['compute.kova.dev/created-1s', 'compute.kova.dev/created-1e3s', 'compute.kova.dev/created-1e5s', 'compute.kova.dev/created-1e7s'] && !(k in object.metadata.?labels.orValue({})))"}]}`

// ServerDefaulter puts the finalizer on a server as it is created, which spares the
// controller a write per boot (the controller still adds it if it is missing), and records
// who created it: the authenticated user, whatever the request said. The server boots with
// that user's keypair, and Nova shows the user as user_id. It stamps the creation-time
// labels (computev1.LabelCreated*), whatever the request said, by which the REST shim
// checks one page of a list against the API server, and keeps them: an update that takes
// one away gets it back, so a server made with them has them for good.
type ServerDefaulter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Default adds the finalizer, the creator and the creation-time labels to a server being
// made, and puts back the creation-time labels an update takes away.
func (d ServerDefaulter) Default(ctx context.Context, srv *computev1.Server) error {
	if req, err := admission.RequestFromContext(ctx); err == nil && req.Operation == admissionv1.Update {
		return keepCreatedLabels(req, srv)
	}
	controllerutil.AddFinalizer(srv, computev1.Finalizer)
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if srv.Labels == nil {
		srv.Labels = map[string]string{}
	}
	maps.Copy(srv.Labels, rules.CreatedLabels(now()))
	if user := userOf(ctx).Username; user != "" {
		if srv.Annotations == nil {
			srv.Annotations = map[string]string{}
		}
		srv.Annotations[computev1.AnnotationUserID] = user
	}
	return nil
}

// keepCreatedLabels puts back on srv the creation-time labels the server had before the
// update req.
func keepCreatedLabels(req admission.Request, srv *computev1.Server) error {
	var old computev1.Server
	if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
		return apierrors.NewBadRequest("the server before the update: " + err.Error())
	}
	for _, k := range takenAway(old.Labels, srv.Labels) {
		if srv.Labels == nil {
			srv.Labels = map[string]string{}
		}
		srv.Labels[k] = old.Labels[k]
	}
	return nil
}

// takenAway are the creation-time labels that were and are not.
func takenAway(were, are map[string]string) []string {
	var keys []string
	for _, k := range rules.CreatedLabelKeys() {
		_, had := were[k]
		if _, has := are[k]; had && !has {
			keys = append(keys, k)
		}
	}
	return keys
}

// serverMutatePath is where the Server mutating webhook is served (its marker's path).
const serverMutatePath = "/mutate-compute-kova-dev-v1alpha1-server"

// serverMutating is the Server mutating webhook: ServerDefaulter, and a warning when it
// puts back a creation-time label, so that `kubectl label server web
// compute.kova.dev/created-1s-` does not say only "labeled" of a label it did not remove.
func serverMutating(w *admission.Webhook) *admission.Webhook {
	w.Handler = putBackWarning{w.Handler}
	return w
}

type putBackWarning struct{ admission.Handler }

func (h putBackWarning) Handle(ctx context.Context, req admission.Request) admission.Response {
	resp := h.Handler.Handle(ctx, req)
	if req.Operation != admissionv1.Update || !resp.Allowed {
		return resp
	}
	var was, is struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if json.Unmarshal(req.OldObject.Raw, &was) != nil || json.Unmarshal(req.Object.Raw, &is) != nil {
		return resp
	}
	if keys := takenAway(was.Metadata.Labels, is.Metadata.Labels); len(keys) > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%s put back: a server keeps the creation-time labels Kova stamps on it, by which the REST API pages servers", strings.Join(keys, ", ")))
	}
	return resp
}

// ServerValidator refuses servers that refer to what does not exist, and spec changes that
// Nova would refuse from the server's current state.
type ServerValidator struct {
	Client          client.Client
	Reader          client.Reader
	PublicNamespace string
	Admins          *Admins
	// Quotas reserves a create's or a resize's usage; nil enforces no quota.
	Quotas *QuotaGate
}

// resolve looks a reference up in the cache, then in the API server if the cache has not
// seen it yet (refs.Resolve).
func (v *ServerValidator) resolve(lookup func(client.Reader) error) error {
	return refs.Resolve(v.Client, v.Reader, lookup)
}

var serverGK = computev1.GroupVersion.WithKind("Server").GroupKind()
var serverGR = computev1.GroupVersion.WithResource("servers").GroupResource()

// ValidateCreate refuses what the user may not ask for through the REST API either, then
// checks every reference, with Nova's words for a missing one.
func (v *ServerValidator) ValidateCreate(ctx context.Context, srv *computev1.Server) (admission.Warnings, error) {
	if err := checkPeopleAnnotations(ctx, nil, srv); err != nil {
		return nil, err
	}
	if err := v.checkFaultAnnotation(ctx, nil, srv); err != nil {
		return nil, err
	}
	spec := field.NewPath("spec")
	// Nova parses the zone before it asks whether the caller may force a host.
	if _, _, _, err := computev1.ParseAvailabilityZone(srv.Spec.AvailabilityZone); err != nil {
		return nil, apierrors.NewInvalid(serverGK, srv.Name, field.ErrorList{field.Invalid(
			spec.Child("availabilityZone"), srv.Spec.AvailabilityZone, "Invalid input received: "+err.Error())})
	}
	if err := v.checkCalls(ctx, nil, srv); err != nil {
		return nil, err
	}
	if err := v.checkVolumes(ctx, nil, srv); err != nil {
		return nil, err
	}
	if err := v.checkSecurityGroups(ctx, nil, srv); err != nil {
		return nil, err
	}
	if err := v.checkServerGroup(ctx, srv); err != nil {
		return nil, err
	}
	var errs field.ErrorList
	errs = append(errs, v.checkNetworks(ctx, srv, nil)...)
	var flavor *computev1.Flavor
	err := v.resolve(func(c client.Reader) (err error) { flavor, err = refs.Flavor(ctx, c, srv.Spec.FlavorRef); return err })
	errs = appendRefError(errs, spec.Child("flavorRef"), srv.Spec.FlavorRef, err)
	var image *computev1.Image
	err = v.resolve(func(c client.Reader) (err error) {
		image, err = refs.Image(ctx, c, srv.Namespace, v.PublicNamespace, srv.Spec.ImageRef)
		return err
	})
	errs = appendRefError(errs, spec.Child("imageRef"), srv.Spec.ImageRef, err)
	if image != nil && (image.Status.Status == computev1.ImageKilled || image.Status.Status == computev1.ImageDeleted) {
		errs = append(errs, field.Invalid(spec.Child("imageRef"), srv.Spec.ImageRef, "Image "+image.Name+" is not active."))
	}
	if flavor != nil && image != nil {
		errs = appendRefError(errs, spec.Child("flavorRef"), srv.Spec.FlavorRef, rules.FitsImage(flavor, image))
	}
	if srv.Spec.KeyName != "" {
		err := v.resolve(func(c client.Reader) error { _, err := refs.ServerKeypair(ctx, c, srv); return err })
		errs = appendRefError(errs, spec.Child("keyName"), srv.Spec.KeyName, err)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	// Last, as in Nova's compute API: the quotas (instances, cores and RAM, then the server
	// group's members), reserved together before the server is stored.
	return nil, v.Quotas.reserve(ctx, srv.Namespace, serverGR, srv.Name, quota.Claim{UID: string(srv.UID),
		FlavorRef: srv.Spec.FlavorRef, Create: true, Flavor: quota.FlavorOf(flavor), Object: memberClaim(srv)})
}

// appendRefError turns a failed lookup into a field error with Nova's words; an API error
// passes through as an internal error so a flaky read is not reported as bad input.
func appendRefError(errs field.ErrorList, p *field.Path, value string, err error) field.ErrorList {
	var nf *refs.NotFoundError
	var inv *refs.InvalidError
	switch {
	case err == nil:
		return errs
	case errors.As(err, &nf):
		return append(errs, field.Invalid(p, value, nf.Message))
	case errors.As(err, &inv):
		return append(errs, field.Invalid(p, value, inv.Message))
	default:
		return append(errs, field.InternalError(p, err))
	}
}

// ValidateUpdate refuses a spec change the user may not make through the REST API, one
// whose action the lifecycle refuses now, with Nova's 409 message, and any action on a
// locked server by a user who may not override locks.
func (v *ServerValidator) ValidateUpdate(ctx context.Context, old, srv *computev1.Server) (admission.Warnings, error) {
	if err := checkPeopleAnnotations(ctx, old, srv); err != nil {
		return nil, err
	}
	if err := v.checkFaultAnnotation(ctx, old, srv); err != nil {
		return nil, err
	}
	if err := checkCreatedLabels(old, srv); err != nil {
		return nil, err
	}
	if err := v.checkCalls(ctx, old, srv); err != nil {
		return nil, err
	}
	if err := v.checkFinalizer(ctx, old, srv); err != nil {
		return nil, err
	}
	if err := checkNetworkEdits(old, srv); err != nil {
		return nil, err
	}
	if errs := v.checkNetworks(ctx, srv, old); len(errs) > 0 {
		return nil, apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	if err := v.checkVolumes(ctx, old, srv); err != nil {
		return nil, err
	}
	if err := v.checkSecurityGroups(ctx, old, srv); err != nil {
		return nil, err
	}
	if !srv.DeletionTimestamp.IsZero() || old.Status.VMState == "" {
		return nil, nil
	}
	actions := rules.ChangedActions(old, srv)
	if len(actions) == 0 {
		return nil, nil
	}
	spec := field.NewPath("spec")
	var flavor *computev1.Flavor
	if srv.Spec.FlavorRef != old.Spec.FlavorRef {
		if err := v.resolve(func(c client.Reader) (err error) { flavor, err = refs.Flavor(ctx, c, srv.Spec.FlavorRef); return err }); err != nil {
			return nil, apierrors.NewInvalid(serverGK, srv.Name, appendRefError(nil, spec.Child("flavorRef"), srv.Spec.FlavorRef, err))
		}
	}
	if srv.Spec.ImageRef != old.Spec.ImageRef {
		if err := v.resolve(func(c client.Reader) error {
			_, err := refs.Image(ctx, c, srv.Namespace, v.PublicNamespace, srv.Spec.ImageRef)
			return err
		}); err != nil {
			return nil, apierrors.NewInvalid(serverGK, srv.Name, appendRefError(nil, spec.Child("imageRef"), srv.Spec.ImageRef, err))
		}
	}
	admin := true
	if old.Status.Locked && !lockOnly(old, srv) {
		var err error
		if admin, err = v.Admins.IsAdmin(ctx, userOf(ctx)); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
	}
	st := rules.LifecycleState(&old.Status)
	for _, a := range actions {
		if err := lifecycle.CheckLaunched(a, st, old.Status.Locked, admin, rules.Launched(old), string(srv.UID)); err != nil {
			return nil, apierrors.NewConflict(serverGR, srv.Name, err)
		}
	}
	if flavor == nil {
		return nil, nil
	}
	return nil, v.Quotas.reserveResize(ctx, srv, serverGR, srv.Name, old.Spec.FlavorRef, flavor)
}

// lockOnly says whether the only change is to the lock itself.
func lockOnly(old, srv *computev1.Server) bool {
	a, b := old.Spec, srv.Spec
	a.Locked, b.Locked, a.LockedReason, b.LockedReason = false, false, "", ""
	a.Metadata, b.Metadata = nil, nil
	return equalSpec(a, b)
}

// ValidateDelete refuses to delete a locked server for a user who may not override locks,
// as Nova does, then records the delete (recordDelete).
func (v *ServerValidator) ValidateDelete(ctx context.Context, srv *computev1.Server) (admission.Warnings, error) {
	if srv.Status.Locked {
		admin, err := v.Admins.IsAdmin(ctx, userOf(ctx))
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if !admin {
			return nil, apierrors.NewConflict(serverGR, srv.Name, errors.New("Instance "+string(srv.UID)+" is locked"))
		}
	}
	return nil, v.recordDelete(ctx, srv)
}

// checkCreatedLabels refuses a creation-time label set to another value or added: they say
// when the server was made, and a page of the REST shim's lists is checked by them. One
// taken away never comes here: the mutating webhook has put it back (keepCreatedLabels).
func checkCreatedLabels(old, srv *computev1.Server) error {
	var errs field.ErrorList
	for _, k := range rules.CreatedLabelKeys() {
		was, had := old.Labels[k]
		is, has := srv.Labels[k]
		if has && (!had || was != is) {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "labels").Key(k), "set by Kova when the server is made; it cannot change"))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	return nil
}
