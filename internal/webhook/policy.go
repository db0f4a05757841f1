package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

// The controller writes spec on a rebuild and a revert (until it no longer does), so the
// manager is allowed the calls those changes mean.
// +kubebuilder:rbac:groups=nova.kova.dev,resources=servers/action,verbs=create

// novaCall is a Nova REST call as a client makes it, under the tenant's compute root.
type novaCall struct {
	method string
	path   string // {id} is the server
	rule   string // Nova's policy rule, named when the call is refused
}

var (
	callAction   = func(rule string) novaCall { return novaCall{http.MethodPost, "/servers/{id}/action", rule} }
	callLock     = callAction("os_compute_api:os-lock-server:lock")
	callUnlock   = callAction("os_compute_api:os-lock-server:unlock")
	callRescue   = callAction("os_compute_api:os-rescue")
	callUnrescue = callAction("os_compute_api:os-unrescue")
	callResize   = callAction("os_compute_api:servers:resize")
	callRebuild  = callAction("os_compute_api:servers:rebuild")
	callMetadata = novaCall{http.MethodPut, "/servers/{id}/metadata", "os_compute_api:server-metadata:update_all"}
	callRename   = novaCall{http.MethodPut, "/servers/{id}", "os_compute_api:servers:update"}
)

// powerCalls are the calls of the power actions, whose route from one power state to
// another rules.PowerRoute says.
var powerCalls = map[lifecycle.Action]novaCall{
	lifecycle.ActionStop:     callAction("os_compute_api:servers:stop"),
	lifecycle.ActionStart:    callAction("os_compute_api:servers:start"),
	lifecycle.ActionPause:    callAction("os_compute_api:os-pause-server:pause"),
	lifecycle.ActionUnpause:  callAction("os_compute_api:os-pause-server:unpause"),
	lifecycle.ActionSuspend:  callAction("os_compute_api:os-suspend-server:suspend"),
	lifecycle.ActionResume:   callAction("os_compute_api:os-suspend-server:resume"),
	lifecycle.ActionShelve:   callAction("os_compute_api:os-shelve:shelve"),
	lifecycle.ActionUnshelve: callAction("os_compute_api:os-shelve:unshelve"),
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
			add("locked", callLock)
		} else {
			add("locked", callUnlock)
		}
	}
	if s.Rescue != was.Rescue {
		if s.Rescue {
			add("rescue", callRescue)
		} else {
			add("rescue", callUnrescue)
		}
	}
	for _, a := range rules.PowerRoute(was.PowerState, s.PowerState) {
		add("powerState", powerCalls[a])
	}
	if create {
		return out
	}
	if s.FlavorRef != was.FlavorRef {
		add("flavorRef", callResize)
	}
	if s.ImageRef != was.ImageRef {
		add("imageRef", callRebuild)
	}
	if !equalMetadata(s.Metadata, was.Metadata) {
		add("metadata", callMetadata)
	}
	if s.Name != was.Name {
		add("name", callRename)
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

// shimRequestInfo parses a shim path the way kube-apiserver does before it asks RBAC.
var shimRequestInfo = &request.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// callAttributes are the RBAC attributes of a Nova call on a server through the shim.
func callAttributes(ns, name string, c novaCall) (*authorizationv1.ResourceAttributes, error) {
	path := "/apis/" + computev1.NovaAPIGroup + "/v1/namespaces/" + ns + strings.ReplaceAll(c.path, "{id}", name)
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
			if ok, err = v.Admins.MayCall(ctx, srv.Namespace, srv.Name, user, fc.call); err != nil {
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

// checkPeopleAnnotations refuses a user-made change to the annotations that name people:
// the creator is recorded once, by Kova (ServerDefaulter), and a new entry of the action
// history may only name the user who makes the change (the REST API records each action as
// its caller).
func checkPeopleAnnotations(ctx context.Context, old, srv *computev1.Server) error {
	user := userOf(ctx).Username
	meta := field.NewPath("metadata", "annotations")
	if old != nil && old.Annotations[computev1.AnnotationUserID] != srv.Annotations[computev1.AnnotationUserID] {
		return forbidden(srv.Name, meta.Key(computev1.AnnotationUserID).String()+
			": set by Kova only: it records who created the server")
	}
	var before map[string]bool
	if old != nil {
		before = historyEntries(old.Annotations[computev1.AnnotationInstanceActions])
	}
	for entry := range historyEntries(srv.Annotations[computev1.AnnotationInstanceActions]) {
		if before[entry] {
			continue
		}
		var e struct {
			UserID string `json:"userID"`
		}
		if json.Unmarshal([]byte(entry), &e) != nil || e.UserID != user {
			return forbidden(srv.Name, meta.Key(computev1.AnnotationInstanceActions).String()+
				": set by Kova only: a new entry must name the user who asks for the action ("+user+")")
		}
	}
	return nil
}

// historyEntries are the entries of an action history, each in one canonical form; a
// history that does not parse is one entry that names nobody.
func historyEntries(raw string) map[string]bool {
	out := map[string]bool{}
	if raw == "" {
		return out
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		out[raw] = true
		return out
	}
	for _, e := range list {
		b, _ := json.Marshal(e) // map keys sort: one form per entry
		out[string(b)] = true
	}
	return out
}

func internalError(err error) error { return apierrors.NewInternalError(err) }

func forbidden(name, msg string) error {
	return apierrors.NewForbidden(serverGR, name, errors.New(msg))
}
