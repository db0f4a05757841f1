package webhook

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/request"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// Whatever a role may not do through the REST API it may not do through a spec field: a
// field change that is a Nova call (locked: true is POST /servers/{id}/action {"lock"}) is
// allowed only to a user whom RBAC lets make that call through the shim. The RBAC
// attributes of a call come from kube-apiserver's own parsing of the shim's path, as for a
// real REST request, so the Roles that enforce the permission matrix over REST enforce it
// here too, with no second table.

// novaCall is a Nova REST call as a client makes it, under the tenant's compute root.
type novaCall struct {
	method string
	path   string // {id} is the server
	rule   string // Nova's policy rule, named when the call is refused
}

var (
	callMetadata = novaCall{http.MethodPut, "/servers/{id}/metadata", "os_compute_api:server-metadata:update_all"}
	callUpdate   = novaCall{http.MethodPut, "/servers/{id}", "os_compute_api:servers:update"}
	callTags     = novaCall{http.MethodPut, "/servers/{id}/tags", "os_compute_api:os-server-tags:update_all"}
	// Rackspace's scheduled images: enabling (or changing) a schedule, and disabling it.
	callImageSchedule   = novaCall{http.MethodPost, "/servers/{id}/rax-si-image-schedule", "rax-si-image-schedule:enable"}
	callNoImageSchedule = novaCall{http.MethodDelete, "/servers/{id}/rax-si-image-schedule", "rax-si-image-schedule:disable"}
	// A network added to spec.networks is a virtual interface created, one removed is one
	// deleted (Rackspace's os-virtual-interfacesv2, Nova's os-interface).
	callAttachInterface = novaCall{http.MethodPost, "/servers/{id}/os-virtual-interfacesv2", "os_compute_api:os-attach-interfaces:create"}
	callDetachInterface = novaCall{http.MethodDelete, "/servers/{id}/os-virtual-interfacesv2/{device}", "os_compute_api:os-attach-interfaces:delete"}
	// A claim added to spec.volumes is a volume attached, one removed is one detached.
	callAttachVolume = novaCall{http.MethodPost, "/servers/{id}/os-volume_attachments", "os_compute_api:os-volumes-attachments:create"}
	callDetachVolume = novaCall{http.MethodDelete, volumeAttachmentPath, "os_compute_api:os-volumes-attachments:delete"}
	// A claim kept whose deleteOnTermination changed is an attachment updated (2.85); one
	// replaced by another on its device is a volume swapped, Nova's admin-only call.
	callUpdateVolume = novaCall{http.MethodPut, volumeAttachmentPath, "os_compute_api:os-volumes-attachments:update"}
	callSwapVolume   = novaCall{http.MethodPut, volumeAttachmentPath, "os_compute_api:os-volumes-attachments:swap"}
)

// pathServerAction is POST /servers/{id}/action's path: every server action's, whatever the
// action (its rule tells them apart).
const pathServerAction = "/servers/{id}/action"

// volumeAttachmentPath is one attachment of a server.
const volumeAttachmentPath = "/servers/{id}/os-volume_attachments/{device}"

// operatorCalls are the calls only the cloud operator may make, whatever RBAC allows their
// path: Nova's admin-only rule on a path other calls share (swap volume shares update's).
var operatorCalls = map[novaCall]bool{callSwapVolume: true}

// actionRules are Nova's policy rules of the server actions, each POST
// /servers/{id}/action.
var actionRules = map[lifecycle.Action]string{
	lifecycle.ActionStop:           "os_compute_api:servers:stop",
	lifecycle.ActionStart:          "os_compute_api:servers:start",
	lifecycle.ActionPause:          "os_compute_api:os-pause-server:pause",
	lifecycle.ActionUnpause:        "os_compute_api:os-pause-server:unpause",
	lifecycle.ActionSuspend:        "os_compute_api:os-suspend-server:suspend",
	lifecycle.ActionResume:         "os_compute_api:os-suspend-server:resume",
	lifecycle.ActionShelve:         "os_compute_api:os-shelve:shelve",
	lifecycle.ActionShelveOffload:  "os_compute_api:os-shelve:shelve_offload",
	lifecycle.ActionUnshelve:       "os_compute_api:os-shelve:unshelve",
	lifecycle.ActionRebootSoft:     "os_compute_api:servers:reboot",
	lifecycle.ActionRebootHard:     "os_compute_api:servers:reboot",
	lifecycle.ActionRebuild:        "os_compute_api:servers:rebuild",
	lifecycle.ActionResize:         "os_compute_api:servers:resize",
	lifecycle.ActionConfirmResize:  "os_compute_api:servers:confirm_resize",
	lifecycle.ActionRevertResize:   "os_compute_api:servers:revert_resize",
	lifecycle.ActionRescue:         "os_compute_api:os-rescue",
	lifecycle.ActionUnrescue:       "os_compute_api:os-unrescue",
	lifecycle.ActionCreateImage:    "os_compute_api:servers:create_image",
	lifecycle.ActionChangePassword: "os_compute_api:os-admin-password",
	lifecycle.ActionLock:           "os_compute_api:os-lock-server:lock",
	lifecycle.ActionUnlock:         "os_compute_api:os-lock-server:unlock",
}

// actionCall is the Nova call of a server action, whether a spec change or a ServerAction
// asks for it: POST /servers/{id}/action, refused in the action's own rule's words.
func actionCall(a lifecycle.Action) novaCall {
	rule, ok := actionRules[a]
	if !ok {
		rule = "os_compute_api:servers:" + string(a)
	}
	return novaCall{http.MethodPost, pathServerAction, rule}
}

// fieldCall is a spec field whose change is a Nova call.
type fieldCall struct {
	field *field.Path
	call  novaCall
}

// specCalls are the Nova calls that taking a server's spec from old to srv means; old is
// nil at create, when the server starts from Nova's defaults (active, unlocked, not rescued).
func specCalls(old, srv *computev1.Server) []fieldCall {
	spec := field.NewPath("spec")
	var was computev1.ServerSpec
	was.PowerState = computev1.PowerActive
	create := old == nil
	if !create {
		was = old.Spec
	}
	s := srv.Spec
	var out []fieldCall
	add := func(name string, c novaCall) { out = append(out, fieldCall{spec.Child(name), c}) }
	if s.Locked != was.Locked || s.Locked && s.LockedReason != was.LockedReason {
		if s.Locked {
			add("locked", actionCall(lifecycle.ActionLock))
		} else {
			add("locked", actionCall(lifecycle.ActionUnlock))
		}
	}
	if s.Rescue != was.Rescue {
		if s.Rescue {
			add("rescue", actionCall(lifecycle.ActionRescue))
		} else {
			add("rescue", actionCall(lifecycle.ActionUnrescue))
		}
	}
	for _, a := range rules.PowerRoute(was.PowerState, s.PowerState) {
		add("powerState", actionCall(a))
	}
	switch {
	case s.ImageSchedule != nil && (was.ImageSchedule == nil || *s.ImageSchedule != *was.ImageSchedule):
		add("imageSchedule", callImageSchedule)
	case s.ImageSchedule == nil && was.ImageSchedule != nil:
		add("imageSchedule", callNoImageSchedule)
	}
	if create {
		return out
	}
	if s.FlavorRef != was.FlavorRef {
		add("flavorRef", actionCall(lifecycle.ActionResize))
	}
	if s.ImageRef != was.ImageRef {
		add("imageRef", actionCall(lifecycle.ActionRebuild))
	}
	if !equalMetadata(s.Metadata, was.Metadata) {
		add("metadata", callMetadata)
	}
	if s.Name != was.Name {
		add("name", callUpdate)
	}
	if !equalDescription(s.Description, was.Description) {
		add("description", callUpdate)
	}
	if s.AccessIPv4 != was.AccessIPv4 {
		add("accessIPv4", callUpdate)
	}
	if s.AccessIPv6 != was.AccessIPv6 {
		add("accessIPv6", callUpdate)
	}
	if !sets.New(s.Tags...).Equal(sets.New(was.Tags...)) {
		add("tags", callTags)
	}
	added, removed := rules.NetworkEdits(&was, &s)
	if len(added) > 0 {
		add("networks", callAttachInterface)
	}
	if len(removed) > 0 {
		add("networks", callDetachInterface)
	}
	if !create {
		sgAdded, sgRemoved := securityGroupEdits(rules.ServerSecurityGroups(old), rules.ServerSecurityGroups(srv))
		if len(sgAdded) > 0 {
			add("securityGroups", callAddSecurityGroup)
		}
		if len(sgRemoved) > 0 {
			add("securityGroups", callRemoveSecurityGroup)
		}
	}
	for _, c := range volumeCalls(old, srv) {
		add("volumes", c)
	}
	return out
}

// volumeCalls are the calls an edit of spec.volumes makes: an attach for a claim added, a
// detach for one removed, a swap for one replaced by another on its device, an update for
// a changed deleteOnTermination.
func volumeCalls(old, srv *computev1.Server) []novaCall {
	var out []novaCall
	added, removed := rules.VolumeEdits(&old.Spec, &srv.Spec)
	if swaps := rules.VolumeSwaps(old, srv); len(swaps) > 0 {
		out = append(out, callSwapVolume)
		swapped := map[string]bool{}
		for _, sw := range swaps {
			swapped[sw.Old], swapped[sw.New] = true, true
		}
		added = slices.DeleteFunc(added, func(c string) bool { return swapped[c] })
		removed = slices.DeleteFunc(removed, func(c string) bool { return swapped[c] })
	}
	if len(added) > 0 {
		out = append(out, callAttachVolume)
	}
	if len(removed) > 0 {
		out = append(out, callDetachVolume)
	}
	if len(rules.DeleteOnTerminationEdits(&old.Spec, &srv.Spec)) > 0 {
		out = append(out, callUpdateVolume)
	}
	return out
}

func equalMetadata(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalDescription(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// shimRequestInfo parses a shim path the way kube-apiserver does before it asks RBAC.
var shimRequestInfo = &request.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// callAttributes are the RBAC attributes of a Nova call on a server through the shim.
func callAttributes(ns, name string, c novaCall) (*authorizationv1.ResourceAttributes, error) {
	path := "/apis/" + computev1.NovaAPIGroup + "/v1/namespaces/" + ns +
		strings.NewReplacer("{id}", name, "{device}", "device").Replace(c.path)
	req, err := http.NewRequest(c.method, path, nil)
	if err != nil {
		return nil, err
	}
	info, err := shimRequestInfo.NewRequestInfo(req)
	if err != nil {
		return nil, err
	}
	return &authorizationv1.ResourceAttributes{
		Namespace: info.Namespace, Verb: info.Verb, Group: info.APIGroup, Version: info.APIVersion,
		Resource: info.Resource, Subresource: info.Subresource, Name: info.Name,
	}, nil
}

// MayCall asks RBAC whether user may make a Nova call on the server name in ns through the
// shim.
func (a *Admins) MayCall(ctx context.Context, ns, name string, user authenticationv1.UserInfo, c novaCall) (bool, error) {
	attrs, err := callAttributes(ns, name, c)
	if err != nil {
		return false, err
	}
	return a.allowed(ctx, user, attrs)
}

// checkCalls refuses, with Nova's 403 wording, the spec changes whose Nova calls user may
// not make, and a forced host from anyone but Nova's admin. The zone cannot change after
// create, so old is nil exactly when the zone is new.
func (v *ServerValidator) checkCalls(ctx context.Context, old, srv *computev1.Server) error {
	user := userOf(ctx)
	var refused []string
	asked := map[novaCall]bool{}
	for _, fc := range specCalls(old, srv) {
		ok, seen := asked[fc.call]
		if !seen {
			var err error
			if operatorCalls[fc.call] {
				ok, err = v.Admins.IsAdmin(ctx, user)
			} else {
				ok, err = v.Admins.MayCall(ctx, srv.Namespace, srv.Name, user, fc.call)
			}
			if err != nil {
				return internalError(err)
			}
			asked[fc.call] = ok
		}
		if !ok {
			refused = append(refused, fc.field.String()+": "+policyMessage(fc.call.rule))
		}
	}
	if old == nil && computev1.ForcesHost(srv.Spec.AvailabilityZone) {
		ok, err := v.Admins.IsAdmin(ctx, user)
		if err != nil {
			return internalError(err)
		}
		if !ok {
			refused = append(refused, "spec.availabilityZone: "+policyMessage("os_compute_api:servers:create:forced_host"))
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return forbidden(srv.Name, strings.Join(refused, "; "))
}

func policyMessage(rule string) string { return "Policy doesn't allow " + rule + " to be performed." }

// checkPeopleAnnotations refuses a user-made change to the annotation that names the
// server's creator: it is recorded once, by Kova (ServerDefaulter).
func checkPeopleAnnotations(_ context.Context, old, srv *computev1.Server) error {
	meta := field.NewPath("metadata", "annotations")
	if old != nil && old.Annotations[computev1.AnnotationUserID] != srv.Annotations[computev1.AnnotationUserID] {
		return forbidden(srv.Name, meta.Key(computev1.AnnotationUserID).String()+
			": set by Kova only: it records who created the server")
	}
	return nil
}

// checkFaultAnnotation refuses a fault injected into the simulated driver
// (AnnotationFault) by anyone but the cloud operator: it is a test hook of the cloud, which
// no REST call can reach, and a tenant may not make its servers fail as the cloud's do.
func (v *ServerValidator) checkFaultAnnotation(ctx context.Context, old, srv *computev1.Server) error {
	was, had := "", false
	if old != nil {
		was, had = old.Annotations[computev1.AnnotationFault]
	}
	now, has := srv.Annotations[computev1.AnnotationFault]
	if was == now && had == has {
		return nil
	}
	admin, err := v.Admins.IsAdmin(ctx, userOf(ctx))
	if err != nil {
		return internalError(err)
	}
	if !admin {
		return forbidden(srv.Name, field.NewPath("metadata", "annotations").Key(computev1.AnnotationFault).String()+
			": the simulated driver's faults are injected by the cloud operator only")
	}
	return nil
}

func internalError(err error) error { return apierrors.NewInternalError(err) }

func forbidden(name, msg string) error {
	return apierrors.NewForbidden(serverGR, name, errors.New(msg))
}
