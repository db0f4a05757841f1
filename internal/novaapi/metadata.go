package novaapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
)

// Server metadata (/servers/{id}/metadata[/{key}]) is Server.spec.metadata; image
// metadata (/images/{id}/metadata[/{key}], up to 2.38) is Image.spec.metadata. Nova's
// bodies: {"metadata": {...}} for the whole set, {"meta": {key: value}} for one item.
// Both APIs behave alike but for their guards and words, which metaTarget carries.

// metaTarget is the metadata of one server or image.
type metaTarget struct {
	current map[string]string
	// write applies change to the latest metadata, under the owner's guard for a change
	// of the given Nova name ("update metadata", "delete metadata").
	write func(novaName string, change func(map[string]string) (map[string]string, error)) error
	// tooMany is the quota refusal; missingItem and missingDelete the 404s of a key that
	// is not there.
	tooMany                    *apiError
	missingItem, missingDelete string
}

// metadataStates are the vm_states in which Nova changes a server's metadata.
var metadataStates = []lifecycle.VMState{lifecycle.VMActive, lifecycle.VMPaused, lifecycle.VMSuspended, lifecycle.VMStopped}

// checkMetadata is the guard of Nova's update_instance_metadata and
// delete_instance_metadata: the lock, then an idle server in one of metadataStates.
func (rq *request) checkMetadata(srv *computev1.Server, st lifecycle.State, novaName string) error {
	if srv.Status.Locked {
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if !admin {
			return conflict("Instance %s is locked", srv.UID)
		}
	}
	if !slices.Contains(metadataStates, st.VM) {
		return conflict("Cannot '%s' instance %s while it is in vm_state %s", novaName, srv.UID, st.VM)
	}
	if st.Task != lifecycle.TaskNone {
		return conflict("Cannot '%s' instance %s while it is in task_state %s", novaName, srv.UID, st.Task)
	}
	return nil
}

func metadataOf(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// serverMeta resolves the server of the request as a metadata target.
func (h *handler) serverMeta(rq *request) (*metaTarget, error) {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return nil, err
	}
	return &metaTarget{
		current:       srv.Spec.Metadata,
		tooMany:       forbidden("Maximum number of metadata items exceeds %d", maxMetaItems),
		missingItem:   "Metadata item was not found",
		missingDelete: "Metadata item was not found",
		write: func(novaName string, change func(map[string]string) (map[string]string, error)) error {
			_, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
				st, err := h.serverState(rq.ctx, s)
				if err != nil {
					return err
				}
				if err := rq.checkMetadata(s, st, novaName); err != nil {
					return err
				}
				m, err := change(metadataOf(s.Spec.Metadata))
				s.Spec.Metadata = m
				return err
			})
			return err
		},
	}, nil
}

// imageMeta resolves the image of the request as a metadata target. Only the tenant's
// own images may be changed (Glance refuses others: "Not authorized for image X.").
func (h *handler) imageMeta(rq *request) (*metaTarget, error) {
	id := rq.param(0)
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Image not found.")
	}
	return &metaTarget{
		current:       img.Spec.Metadata,
		tooMany:       forbidden("Image metadata limit exceeded"),
		missingItem:   msgResourceNotFound,
		missingDelete: "Invalid metadata key",
		write: func(_ string, change func(map[string]string) (map[string]string, error)) error {
			if img.Namespace != rq.caller.Tenant {
				return forbidden("Not authorized for image %s.", id)
			}
			_, err := patchFresh(rq.ctx, h.writer(rq.ctx), img, func(i *computev1.Image) error {
				m, err := change(metadataOf(i.Spec.Metadata))
				i.Spec.Metadata = m
				return err
			})
			return err
		},
	}, nil
}

type metaResolver func(*request) (*metaTarget, error)

func (h *handler) listServerMetadata(rq *request) error     { return listMeta(rq, h.serverMeta) }
func (h *handler) showServerMetadataItem(rq *request) error { return showMetaItem(rq, h.serverMeta) }
func (h *handler) updateServerMetadata(rq *request) error   { return writeMeta(rq, h.serverMeta, false) }
func (h *handler) replaceServerMetadata(rq *request) error  { return writeMeta(rq, h.serverMeta, true) }
func (h *handler) setServerMetadataItem(rq *request) error {
	return setMetaItem(rq, h.serverMeta, false)
}
func (h *handler) deleteServerMetadataItem(rq *request) error {
	return deleteMetaItem(rq, h.serverMeta)
}

func (h *handler) listImageMetadata(rq *request) error       { return listMeta(rq, h.imageMeta) }
func (h *handler) showImageMetadataItem(rq *request) error   { return showMetaItem(rq, h.imageMeta) }
func (h *handler) updateImageMetadata(rq *request) error     { return writeMeta(rq, h.imageMeta, false) }
func (h *handler) replaceImageMetadata(rq *request) error    { return writeMeta(rq, h.imageMeta, true) }
func (h *handler) setImageMetadataItem(rq *request) error    { return setMetaItem(rq, h.imageMeta, true) }
func (h *handler) deleteImageMetadataItem(rq *request) error { return deleteMetaItem(rq, h.imageMeta) }

func listMeta(rq *request, resolve metaResolver) error {
	t, err := resolve(rq)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"metadata": metadataOf(t.current)})
}

func showMetaItem(rq *request, resolve metaResolver) error {
	t, err := resolve(rq)
	if err != nil {
		return err
	}
	key := rq.param(1)
	v, ok := t.current[key]
	if !ok {
		return notFound("%s", t.missingItem)
	}
	return rq.json(http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
}

// writeMeta is POST (merge the given items in) and PUT (replace the whole set).
func writeMeta(rq *request, resolve metaResolver, replace bool) error {
	if _, err := rq.validBody(schemas.Metadata); err != nil {
		return err
	}
	var body struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	t, err := resolve(rq)
	if err != nil {
		return err
	}
	var result map[string]string
	err = t.write("update metadata", func(cur map[string]string) (map[string]string, error) {
		result = maps.Clone(body.Metadata)
		if !replace {
			result = maps.Clone(cur)
			maps.Copy(result, body.Metadata)
		}
		if len(result) > maxMetaItems {
			return cur, t.tooMany
		}
		return result, nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"metadata": metadataOf(result)})
}

// setMetaItem is PUT of one key, whose body must name the same key: checked before the
// owner is looked up for images (mismatchFirst), after it for servers, as in Nova.
func setMetaItem(rq *request, resolve metaResolver, mismatchFirst bool) error {
	if _, err := rq.validBody(schemas.MetaItem); err != nil {
		return err
	}
	var body struct {
		Meta map[string]string `json:"meta"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	key := rq.param(1)
	_, matches := body.Meta[key]
	if mismatchFirst && !matches {
		return badRequest("Request body and URI mismatch")
	}
	t, err := resolve(rq)
	if err != nil {
		return err
	}
	if !matches {
		return badRequest("Request body and URI mismatch")
	}
	err = t.write("update metadata", func(cur map[string]string) (map[string]string, error) {
		next := maps.Clone(cur)
		next[key] = body.Meta[key]
		if len(next) > maxMetaItems {
			return cur, t.tooMany
		}
		return next, nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"meta": body.Meta})
}

func deleteMetaItem(rq *request, resolve metaResolver) error {
	t, err := resolve(rq)
	if err != nil {
		return err
	}
	key := rq.param(1)
	if _, ok := t.current[key]; !ok {
		return notFound("%s", t.missingDelete)
	}
	err = t.write("delete metadata", func(cur map[string]string) (map[string]string, error) {
		next := maps.Clone(cur)
		delete(next, key)
		return next, nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}
