package novaapi

import (
	"context"
	"encoding/json"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET, PUT and DELETE /servers/{id}, and POST /servers.

func (h *handler) showServer(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	v, err := rq.serverShow(srv)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server": v})
}

func (h *handler) deleteServer(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	st, err := h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	if err := rq.check(lifecycle.ActionDelete, srv, st); err != nil {
		return err
	}
	// The DELETE is made on the noted server only. The API server admits a delete first
	// against its watch cache's copy of the object, which may not have the note yet, and
	// the webhook records the delete on that first admission. A resourceVersion
	// precondition that copy fails makes the API server read the object from etcd and
	// admit that. A write landing between the note and the DELETE fails the precondition:
	// the note is made again, on the newer server.
	err = retry.OnError(retry.DefaultRetry, isOptimisticConflict, func() error {
		rv, err := h.noteDelete(rq, srv)
		if err != nil {
			return err
		}
		return deleteExact(rq.ctx, h.writer(rq.ctx), srv, rv)
	})
	if apierrors.IsNotFound(err) {
		// Gone since it was read: Nova's delete answers its InstanceNotFound so.
		return notFound("Instance could not be found")
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}

// serverAttrs are the attributes both PUT /servers/{id} and rebuild change: the name,
// description and access addresses in the spec (a null description removes it), the disk
// config in an annotation.
type serverAttrs struct {
	Name        *string         `json:"name"`
	DiskConfig  *string         `json:"OS-DCF:diskConfig"`
	AccessIPv4  *string         `json:"accessIPv4"`
	AccessIPv6  *string         `json:"accessIPv6"`
	Description json.RawMessage `json:"description"`
}

// given says whether the body sets any attribute, so that a rebuild that sets none writes
// nothing to the server.
func (a *serverAttrs) given() bool {
	return a.Name != nil || a.DiskConfig != nil || a.AccessIPv4 != nil || a.AccessIPv6 != nil || a.Description != nil
}

func (a *serverAttrs) apply(s *computev1.Server) {
	if a.Name != nil {
		s.Spec.Name = *a.Name
	}
	if a.DiskConfig != nil {
		setAnnotation(s, annDiskConfig, *a.DiskConfig)
	}
	if a.AccessIPv4 != nil {
		s.Spec.AccessIPv4 = canonicalIP(*a.AccessIPv4)
	}
	if a.AccessIPv6 != nil {
		s.Spec.AccessIPv6 = canonicalIP(*a.AccessIPv6)
	}
	if a.Description != nil {
		var d *string
		_ = json.Unmarshal(a.Description, &d)
		s.Spec.Description = d
	}
}

// serverUpdate is PUT /servers/{id}'s body.
type serverUpdate struct {
	Server serverAttrs `json:"server"`
}

func (h *handler) updateServer(rq *request) error {
	if _, err := rq.validBody(schemas.ServerUpdate(rq.version)); err != nil {
		return err
	}
	var body serverUpdate
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	srv, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		body.Server.apply(s)
		return nil
	})
	if err != nil {
		return err
	}
	st, err := h.serverState(rq.ctx, srv)
	if err != nil {
		return err
	}
	full := rq.version.AtLeast(75)
	v, err := rq.buildServer(srv, st, serverView{ServerShape: views.ServerShape{Full: full}})
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"server": v})
}

// patchServer changes a server under an optimistic lock (see patchFresh).
func (h *handler) patchServer(ctx context.Context, srv *computev1.Server, change func(*computev1.Server) error) (*computev1.Server, error) {
	out, err := patchFresh(ctx, h.writer(ctx), srv, change)
	if apierrors.IsNotFound(err) {
		return nil, notFound("Instance %s could not be found.", srv.UID)
	}
	return out, err
}

// deleteExact deletes obj only if the object of its name is still obj (its uid, and its
// resourceVersion too when rv is not ""). One deleted and made again under the name since
// it was read is left alone, and the error reads as not found: the object the request
// named is gone.
func deleteExact(ctx context.Context, c client.Client, obj client.Object, rv string) error {
	uid := obj.GetUID()
	pre := client.Preconditions{UID: &uid}
	if rv != "" {
		pre.ResourceVersion = &rv
	}
	err := c.Delete(ctx, obj, pre)
	if isReplaced(err) {
		return apierrors.NewNotFound(schema.GroupResource{}, obj.GetName())
	}
	return err
}

// patchFresh changes an object with a merge patch under an optimistic lock. When the
// cached copy was stale, the object is read again past the cache and change is applied
// to it again: change must decide from what it is given, so a check in it is made against
// the latest object.
func patchFresh[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Client, obj PT, change func(PT) error) (PT, error) {
	cur := obj.DeepCopyObject().(PT)
	first := true
	err := retry.OnError(retry.DefaultRetry, isOptimisticConflict, func() error {
		if !first {
			fresh := PT(new(T))
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
				return err
			}
			cur = fresh
		}
		first = false
		next := cur.DeepCopyObject().(PT)
		if err := change(next); err != nil {
			return err
		}
		if err := c.Patch(ctx, next, client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
		cur = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}
