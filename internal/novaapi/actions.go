package novaapi

import (
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// POST /servers/{id}/action. The body names one action. Each is checked against the
// lifecycle before anything is written, so a refusal is Nova's 409 with Nova's message;
// then it becomes a ServerAction. A REST call is an imperative request, even for an action
// that Server.spec can also ask for (stop, resize, lock, ...): it never writes the spec,
// which belongs to whoever declares the server (kubectl, a GitOps tool), and the status
// shows what the server is.

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
	"os-stop":        {run: oneShot(computev1.ActionStop, http.StatusAccepted)},
	"os-start":       {run: oneShot(computev1.ActionStart, http.StatusAccepted)},
	"pause":          {run: oneShot(computev1.ActionPause, http.StatusAccepted)},
	"unpause":        {run: oneShot(computev1.ActionUnpause, http.StatusAccepted)},
	"suspend":        {run: oneShot(computev1.ActionSuspend, http.StatusAccepted)},
	"resume":         {run: oneShot(computev1.ActionResume, http.StatusAccepted)},
	"shelve":         {run: oneShot(computev1.ActionShelve, http.StatusAccepted)},
	"unrescue":       {run: oneShot(computev1.ActionUnrescue, http.StatusAccepted)},
	"unshelve":       {run: (*handler).unshelve, schema: schemas.Unshelve},
	"rescue":         {run: (*handler).rescue, schema: fixed(schemas.Rescue)},
	"resize":         {run: (*handler).resize, schema: fixed(schemas.Resize)},
	"lock":           {run: (*handler).lock, schema: schemas.Lock},
	"unlock":         {run: (*handler).unlock},
	"reboot":         {run: (*handler).reboot, schema: fixed(schemas.Reboot)},
	"rebuild":        {run: (*handler).rebuild, schema: schemas.Rebuild},
	"createImage":    {run: (*handler).createImage, schema: fixed(schemas.CreateImage)},
	"changePassword": {run: (*handler).changePassword, schema: fixed(schemas.ChangePassword)},
	"addSecurityGroup": {run: (*handler).addSecurityGroup,
		schema: fixed(schemas.SecurityGroupAction("addSecurityGroup"))},
	"removeSecurityGroup": {run: (*handler).removeSecurityGroup,
		schema: fixed(schemas.SecurityGroupAction("removeSecurityGroup"))},
	"addFloatingIp":    {run: (*handler).addFloatingIP, schema: fixed(schemas.AddFloatingIP), max: 43},
	"removeFloatingIp": {run: (*handler).removeFloatingIP, schema: fixed(schemas.RemoveFloatingIP), max: 43},
	"confirmResize":    {run: oneShot(computev1.ActionConfirmResize, http.StatusNoContent)},
	"revertResize":     {run: oneShot(computev1.ActionRevertResize, http.StatusAccepted)},
	"shelveOffload":    {run: oneShot(computev1.ActionShelveOffload, http.StatusAccepted)},

	// Nova has these; Kova does not have them yet, and says so (501). The proxy actions
	// end at 2.43, the console actions at 2.5; trigger_crash_dump starts at 2.17.
	"addFixedIp":           {run: unimplementedAction("addFixedIp"), max: 43},
	"removeFixedIp":        {run: unimplementedAction("removeFixedIp"), max: 43},
	"os-migrateLive":       {run: unimplementedAction("os-migrateLive")},
	"migrate":              {run: unimplementedAction("migrate")},
	"evacuate":             {run: unimplementedAction("evacuate")},
	"forceDelete":          {run: unimplementedAction("forceDelete")},
	"restore":              {run: (*handler).restore},
	"trigger_crash_dump":   {run: unimplementedAction("trigger_crash_dump"), min: 17, schema: fixed(schemas.TriggerCrashDump)},
	"createBackup":         {run: (*handler).createBackup, schema: fixed(schemas.CreateBackup)},
	"os-resetState":        {run: unimplementedAction("os-resetState")},
	"injectNetworkInfo":    {run: unimplementedAction("injectNetworkInfo")},
	"resetNetwork":         {run: unimplementedAction("resetNetwork")},
	"os-getConsoleOutput":  {run: (*handler).getConsoleOutput, schema: fixed(schemas.GetConsoleOutput)},
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

// oneShot is an action with no parameters: a ServerAction.
func oneShot(t computev1.ActionType, code int) func(*handler, *request, *computev1.Server, any) error {
	return func(h *handler, rq *request, srv *computev1.Server, _ any) error {
		if _, err := h.startAction(rq, srv, t, nil); err != nil {
			return err
		}
		return rq.json(code, nil)
	}
}

// checkAction checks a ServerAction's lifecycle action against the server now.
// srv becomes the server as shown (read again if an action finished since it was read, with
// its pending locks), so what the caller decides next it decides on what the check saw.
func (h *handler) checkAction(rq *request, srv *computev1.Server, a lifecycle.Action) error {
	cur, st, seen, err := h.checkedState(rq.ctx, srv)
	if err != nil {
		return err
	}
	*srv, rq.checked = *cur, seen
	return rq.check(a, srv, st)
}

// startAction checks and creates a ServerAction.
func (h *handler) startAction(rq *request, srv *computev1.Server, t computev1.ActionType, params func(*computev1.ServerActionSpec)) (*computev1.ServerAction, error) {
	if err := h.checkAction(rq, srv, rules.LifecycleAction(actionProbe(t, params))); err != nil {
		return nil, err
	}
	return h.createAction(rq, srv, actionName(srv, t), t, params)
}

func actionName(srv *computev1.Server, t computev1.ActionType) string {
	return srv.Name + "-" + strings.ToLower(string(t)) + "-" + randomString(6)
}

// createAction writes a ServerAction with the request's id and the caller as requester
// (the admission webhook stamps the requester again from the real request).
//
// Two requests for one server, through one replica or two, are taken one at a time, as
// Nova takes them (it saves the task expecting none, and the second request finds the task
// set): the note that names the action on the server is written only on the server as it
// was checked (its resourceVersion, and the note the check saw), and an action the note
// names that does not exist yet (its request has noted it and not made it yet, or never
// will) is made under that name, which only one of them can. The request that comes second
// checks the server again, as it is now, with the first one's action pending: Nova's 409
// when that action forbids this one, or a new try when it does not.
func (h *handler) createAction(rq *request, srv *computev1.Server, name string, t computev1.ActionType, params func(*computev1.ServerActionSpec)) (*computev1.ServerAction, error) {
	for try := 1; ; try++ {
		sa, first, err := h.tryAction(rq, srv, name, t, params)
		if err != nil || !first {
			return sa, err
		}
		if try == maxActionTries {
			return nil, conflict("Conflict updating instance %s, but we were unable to determine the cause", srv.UID)
		}
		cur, err := h.server(rq.ctx, srv.Namespace, string(srv.UID))
		if err != nil {
			return nil, err
		}
		if err := h.checkAction(rq, cur, rules.LifecycleAction(actionProbe(t, params))); err != nil {
			return nil, err
		}
		*srv = *cur
	}
}

// maxActionTries bounds how often one action request gives way to others on its server.
const maxActionTries = 5

// tryAction notes and makes the action once; first says another request came first (the
// server changed since it was checked, or the name is taken), and nothing was made.
func (h *handler) tryAction(rq *request, srv *computev1.Server, name string, t computev1.ActionType, params func(*computev1.ServerActionSpec)) (_ *computev1.ServerAction, first bool, _ error) {
	// A server that names another action than the check saw was noted since (a rebuild's
	// patch of the spec, retried on the latest server, can bring that note here unchecked).
	note := srv.Annotations[annPendingAction]
	if note != rq.checked.name {
		return nil, true, nil
	}
	// The action the note names, if the check found none of that name, is made under its
	// name: a request that has noted it and is making it now came first.
	claimed := note != "" && rq.checked.unmade
	if claimed {
		name = note
	}
	sa := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   srv.Namespace,
			Name:        name,
			Labels:      map[string]string{computev1.LabelServer: srv.Name},
			Annotations: map[string]string{annUserID: rq.userName()},
		},
		Spec: actionProbe(t, params).Spec,
	}
	sa.Spec.ServerName, sa.Spec.RequestedBy, sa.Spec.RequestID = srv.Name, rq.userName(), rq.id
	// Named on the server first, so that once this answers, every replica shows its task.
	rv, err := h.noteAction(rq.ctx, srv, name)
	if err != nil {
		if isOptimisticConflict(err) {
			return nil, true, nil
		}
		return nil, false, err
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, sa); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, true, nil
		}
		// Refused: the note of an action that will never be is taken back, so that the next
		// action is not made under this one's name (not another request's note, claimed).
		if !claimed {
			h.unnoteAction(rq.ctx, srv, rv)
		}
		return nil, false, err
	}
	return sa, false, nil
}

// actionProbe is a ServerAction of type t with params, for what its spec says.
func actionProbe(t computev1.ActionType, params func(*computev1.ServerActionSpec)) *computev1.ServerAction {
	probe := &computev1.ServerAction{Spec: computev1.ServerActionSpec{Action: t}}
	if params != nil {
		params(&probe.Spec)
	}
	return probe
}
