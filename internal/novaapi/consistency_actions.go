package novaapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// Read-your-writes for actions (see consistency.go): the ServerAction accepted last is
// named on its server and read past the cache, and a server an action finished on since
// it was read is read again.

// serverActions lists all the ServerActions of a server (its history), past the cache: those
// that name it, less those of an earlier server of the same name, whose history is kept.
func (h *handler) serverActions(ctx context.Context, srv *computev1.Server) ([]computev1.ServerAction, error) {
	var list computev1.ServerActionList
	if err := h.live.List(ctx, &list, client.InNamespace(srv.Namespace), client.MatchingFields{fieldServerName: srv.Name}); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list.Items, func(sa computev1.ServerAction) bool { return !rules.ActionOf(srv, &sa) }), nil
}

// noteDelete names, on srv, the request id and caller of the DELETE about to be made, for
// the admission webhook that records the delete (rules.DeleteRequestID): the id the
// DELETE answers with is the one its instance action shows. Like noteAction, the shim's own
// record. It returns the noted server's resourceVersion, for the DELETE's precondition
// (deleteServer), or "" when nothing was noted: a server already being deleted has its
// delete recorded.
func (h *handler) noteDelete(rq *request, srv *computev1.Server) (string, error) {
	if !srv.DeletionTimestamp.IsZero() {
		return "", nil
	}
	// The uid in the patch is a precondition: a server made again under the name is not noted.
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"uid":%q,"annotations":{%q:%q,%q:%q}}}`,
		srv.UID, computev1.AnnotationDeleteRequestID, rq.id, computev1.AnnotationDeleteRequestedBy, rq.userName()))
	noted := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: srv.Name}}
	if err := h.client.Patch(rq.ctx, noted, patch); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return "", notFound("Instance %s could not be found.", srv.UID)
		}
		return "", err
	}
	return noted.ResourceVersion, nil
}

// noteAction names, on srv, the ServerAction about to be made for it, so every replica
// reads that action with the server (annPendingAction). It is the shim's own record,
// written with its own identity: the caller may act on the server without editing it. It
// is written only on srv as it is (its resourceVersion): a conflict says the server
// changed since (createAction). It returns the noted server's resourceVersion.
func (h *handler) noteAction(ctx context.Context, srv *computev1.Server, name string) (string, error) {
	return h.noteOnServerAt(ctx, srv, srv.ResourceVersion, annPendingAction, fmt.Sprintf("%q", name))
}

// unnoteAction takes back the note of an action that was not made, while it is the last
// write to the server (rv, noteAction's): whatever else came since stays as it is.
func (h *handler) unnoteAction(ctx context.Context, srv *computev1.Server, rv string) {
	if _, err := h.noteOnServerAt(ctx, srv, rv, annPendingAction, "null"); err != nil {
		log.FromContext(ctx).V(1).Info("Left the note of an action not made", "server", srv.Name, "reason", err.Error())
	}
}

// noteOnServer writes one of the shim's notes, annotation k, on srv, with the shim's own
// identity (the Server webhook lets such an update by: internal/webhook/server.go).
func (h *handler) noteOnServer(ctx context.Context, srv *computev1.Server, k, v string) error {
	_, err := h.noteOnServerAt(ctx, srv, "", k, fmt.Sprintf("%q", v))
	return err
}

// noteOnServerAt sets annotation k of srv to the JSON value v (null removes it), on the
// server at resourceVersion rv only (none: as it is), and returns the new resourceVersion.
func (h *handler) noteOnServerAt(ctx context.Context, srv *computev1.Server, rv, k, v string) (string, error) {
	at := ""
	if rv != "" {
		at = fmt.Sprintf(`"resourceVersion":%q,`, rv)
	}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{%s"annotations":{%q:%s}}}`, at, k, v))
	noted := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: srv.Name}}
	if err := h.client.Patch(ctx, noted, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return "", notFound("Instance %s could not be found.", srv.UID)
		}
		return "", err
	}
	return noted.ResourceVersion, nil
}

// pendingAction is the action annPendingAction names on srv when the cache does not have it
// finished: the key to read past the cache, or false. When the cache has it finished, that
// copy is current (finished actions never change) and is returned as done. So is it when
// srv's status records it completed (status.completedActions, written in the status write
// that shows its end, before the action's own outcome): the cached copy then ends as the
// record says, with nothing read past the cache. That spares a poll of a server whose
// action has ended the GET of the action (and finishedSince the second GET of the server).
func pendingAction(srv *computev1.Server, cached []computev1.ServerAction) (key client.ObjectKey, done *computev1.ServerAction, ok bool) {
	name := srv.Annotations[annPendingAction]
	if name == "" {
		return client.ObjectKey{}, nil, false
	}
	for i := range cached {
		if cached[i].Name != name {
			continue
		}
		if cached[i].Status.Phase.Ended() {
			return client.ObjectKey{}, &cached[i], false
		}
		if c := rules.Completed(srv, &cached[i]); c != nil {
			ended := cached[i].DeepCopy()
			ended.Status.Phase, ended.Status.Message = c.Phase, c.Message
			return client.ObjectKey{}, ended, false
		}
	}
	return client.ObjectKey{Namespace: srv.Namespace, Name: name}, nil, true
}

// withFresh is cached with the actions read past the cache in place of their cached copies.
// The controller takes a server's actions up oldest first, so once one is finished every
// older one is too: a cached copy that says otherwise is stale, and is left out rather than
// shown as pending (an unlock seen pending before a lock that is done would undo it).
func withFresh(cached, fresh []computev1.ServerAction) []computev1.ServerAction {
	byName := map[string]bool{}
	for _, sa := range fresh {
		byName[sa.Name] = true
	}
	out := slices.Clone(fresh)
	for _, sa := range cached {
		if !byName[sa.Name] && !slices.ContainsFunc(fresh, func(f computev1.ServerAction) bool { return finishedAfter(&f, &sa) }) {
			out = append(out, sa)
		}
	}
	return out
}

// finishedAfter says whether done is finished and was taken up after sa, which is not
// finished: then sa's copy is stale. Records of spec-driven actions are not in that order.
func finishedAfter(done, sa *computev1.ServerAction) bool {
	if !done.Status.Phase.Ended() || sa.Status.Phase.Ended() || sa.Labels[computev1.LabelFromSpec] != "" || done.Spec.ServerName != sa.Spec.ServerName {
		return false
	}
	if !sa.CreationTimestamp.Equal(&done.CreationTimestamp) {
		return sa.CreationTimestamp.Before(&done.CreationTimestamp)
	}
	return sa.Name < done.Name
}

// actionsOf are the actions a server's state is projected from: the cached ones, and the
// one accepted for it last as the API server has it now (see above). fresh is that one, if
// it was read; unmade says the API server has no action of the name the note gives.
func (h *handler) actionsOf(ctx context.Context, srv *computev1.Server) (all, fresh []computev1.ServerAction, unmade bool, err error) {
	var list computev1.ServerActionList
	if err := cachedNaming(ctx, h, &list, &list.Items, indexServerName, srv.Namespace, srv.Name); err != nil {
		return nil, nil, false, err
	}
	key, done, ok := pendingAction(srv, list.Items)
	if done != nil {
		// Finished, so current; but srv may have been read before it finished (an instant
		// lock finishes at once): it counts as read now, for shownState to compare.
		fresh = []computev1.ServerAction{*done}
		return withFresh(list.Items, fresh), fresh, false, nil
	}
	if !ok {
		return list.Items, nil, false, nil
	}
	sa := &computev1.ServerAction{}
	if err := h.live.Get(ctx, key, sa); err != nil {
		if apierrors.IsNotFound(err) {
			return list.Items, nil, true, nil
		}
		return nil, nil, false, err
	}
	fresh = []computev1.ServerAction{*sa}
	return withFresh(list.Items, fresh), fresh, false, nil
}

// withActions are the servers given with the actions their states are projected from, in
// the same order: the cached ones, by the cache's index on the server's name, and the one
// accepted for each last as the API server has it now (actionsOf). A server an action
// finished on after it was read is read again (shownState); one found gone then is
// returned in gone, and keeps its old copy in the items.
func (h *handler) withActions(ctx context.Context, servers []*computev1.Server) ([]listedServer, []*computev1.Server, error) {
	items := make([]listedServer, len(servers))
	named := make([][]computev1.ServerAction, len(servers)) // the action named on each, as read now
	var keys []client.ObjectKey
	var keyAt []int
	for i, s := range servers {
		// The cache's own actions, not copies: nothing here changes them.
		var list computev1.ServerActionList
		if err := cachedNaming(ctx, h, &list, &list.Items, indexServerName, s.Namespace, s.Name); err != nil {
			return nil, nil, err
		}
		items[i] = listedServer{srv: s, actions: list.Items}
		switch key, done, ok := pendingAction(s, list.Items); {
		case ok:
			keys, keyAt = append(keys, key), append(keyAt, i)
		case done != nil:
			// Finished, so current, and counts as read now (actionsOf).
			named[i] = []computev1.ServerAction{*done}
			items[i].actions = withFresh(list.Items, named[i])
		}
	}
	got, err := getAll[computev1.ServerAction](ctx, h, keys)
	if err != nil {
		return nil, nil, err
	}
	read := make(map[client.ObjectKey]*computev1.ServerAction, len(got))
	for i := range got {
		read[client.ObjectKeyFromObject(&got[i])] = &got[i]
	}
	for j, i := range keyAt {
		if sa, ok := read[keys[j]]; ok {
			named[i] = []computev1.ServerAction{*sa}
			items[i].actions = withFresh(items[i].actions, named[i])
		}
	}
	var behind []client.ObjectKey
	var behindAt []int
	for i := range items {
		if finishedSince(named[i], items[i].srv) {
			behind, behindAt = append(behind, client.ObjectKeyFromObject(items[i].srv)), append(behindAt, i)
		}
	}
	if len(behind) == 0 {
		return items, nil, nil
	}
	again, err := getAll[computev1.Server](ctx, h, behind)
	if err != nil {
		return nil, nil, err
	}
	current := make(map[client.ObjectKey]*computev1.Server, len(again))
	for i := range again {
		current[client.ObjectKeyFromObject(&again[i])] = &again[i]
	}
	var gone []*computev1.Server
	for j, i := range behindAt {
		s, ok := current[behind[j]]
		if !ok || s.UID != items[i].srv.UID {
			gone = append(gone, items[i].srv)
			continue
		}
		items[i].srv = s
	}
	return items, gone, nil
}

// shownState is the server to show and the state to show it in. The server was read before
// its actions; an action the controller finished in between would leave the copy in hand
// older than the action, showing neither its task nor its outcome. Then the server is read
// again, so what is shown is never older than the actions it is projected from.
func (h *handler) shownState(ctx context.Context, srv *computev1.Server) (*computev1.Server, lifecycle.State, error) {
	cur, st, _, err := h.checkedState(ctx, srv)
	return cur, st, err
}

// checkedNote is what a check of an action saw of the action the server's note names.
type checkedNote struct {
	name   string // the note
	unmade bool   // no action of that name existed
}

// checkedState is shownState, and what it saw of the action the shown server's note names.
func (h *handler) checkedState(ctx context.Context, srv *computev1.Server) (*computev1.Server, lifecycle.State, checkedNote, error) {
	actions, fresh, unmade, err := h.actionsOf(ctx, srv)
	if err != nil {
		return nil, lifecycle.State{}, checkedNote{}, err
	}
	seen := checkedNote{name: srv.Annotations[annPendingAction], unmade: unmade}
	if finishedSince(fresh, srv) {
		again := &computev1.Server{}
		err := h.live.Get(ctx, client.ObjectKeyFromObject(srv), again)
		switch {
		case apierrors.IsNotFound(err) || err == nil && again.UID != srv.UID:
			return nil, lifecycle.State{}, checkedNote{}, notFound("Instance %s could not be found.", srv.UID)
		case err != nil:
			return nil, lifecycle.State{}, checkedNote{}, err
		}
		srv = again
	}
	return srv, rules.ProjectedState(srv, actions), seen, nil
}

// finishedSince says whether an action finished after srv was last written. Resource
// versions are etcd revisions; should one not read as a number, nothing is assumed. An
// action srv's status records as completed is not: the status write that shows its end is
// the one that recorded it, and the action's outcome is written after it.
func finishedSince(actions []computev1.ServerAction, srv *computev1.Server) bool {
	at, err := strconv.ParseUint(srv.ResourceVersion, 10, 64)
	if err != nil {
		return false
	}
	for _, sa := range actions {
		if !sa.Status.Phase.Ended() || rules.Completed(srv, &sa) != nil {
			continue
		}
		if rv, err := strconv.ParseUint(sa.ResourceVersion, 10, 64); err == nil && rv > at {
			return true
		}
	}
	return false
}
