package novaapi

import (
	"net/http"
	"strings"

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
	cur, st, err := h.shownState(rq.ctx, srv)
	if err != nil {
		return err
	}
	*srv = *cur
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
