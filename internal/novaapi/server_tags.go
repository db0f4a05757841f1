package novaapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"unicode/utf8"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
)

// Server tags (2.26, server_tags.py): spec.tags, the set kubectl edits too (the webhook asks
// RBAC for PUT /servers/{id}/tags, as these writes need). Reads show the server as the
// caller last wrote it (h.server reads past a stale cache); writes go under the server's
// optimistic lock, so two clients adding tags at once both land.

var tagPattern = regexp.MustCompile(`^[^,/]*$`)

func (h *handler) listServerTags(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"tags": serverTags(srv)})
}

// showServerTag answers 204 if the server has the tag.
func (h *handler) showServerTag(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if tag := rq.param(1); !slices.Contains(srv.Spec.Tags, tag) {
		return notFound("Server %s has no tag '%s'", srv.UID, tag)
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// replaceServerTags is PUT /servers/{id}/tags: the set becomes the body's (duplicates once).
func (h *handler) replaceServerTags(rq *request) error {
	if _, err := rq.validBody(schemas.ServerTags); err != nil {
		return err
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	var tags []string
	for _, t := range body.Tags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	srv, err := h.writeTags(rq, "update tags", func([]string) ([]string, error) { return tags, nil })
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"tags": serverTags(srv)})
}

// addServerTag is PUT /servers/{id}/tags/{tag}: 201 with the tag's Location if new, 204 if
// the server had it.
func (h *handler) addServerTag(rq *request) error {
	tag := rq.param(1)
	if err := checkURLTag(tag); err != nil {
		return err
	}
	had := false
	srv, err := h.writeTags(rq, "update tag", func(cur []string) ([]string, error) {
		if had = slices.Contains(cur, tag); had {
			return cur, nil
		}
		if len(cur) >= schemas.MaxServerTags {
			return cur, badRequest("The number of tags exceeded the per-server limit %d", schemas.MaxServerTags)
		}
		return append(slices.Clone(cur), tag), nil
	})
	if err != nil {
		return err
	}
	if had {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rq.w.Header().Set("Location", rq.selfHref("servers", string(srv.UID)+"/tags/"+tag))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

func (h *handler) deleteServerTag(rq *request) error {
	tag := rq.param(1)
	_, err := h.writeTags(rq, "delete tag", func(cur []string) ([]string, error) {
		i := slices.Index(cur, tag)
		if i < 0 {
			return cur, notFound("Instance %s has no tag '%s'", rq.param(0), tag)
		}
		return slices.Delete(slices.Clone(cur), i, i+1), nil
	})
	if err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) deleteServerTags(rq *request) error {
	if _, err := h.writeTags(rq, "delete tags", func([]string) ([]string, error) { return nil, nil }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeTags changes the server's tags if it is in a state Nova changes tags in (its
// _check_instance_in_valid_state: active, paused, suspended or stopped; no lock check).
func (h *handler) writeTags(rq *request, novaName string, change func([]string) ([]string, error)) (*computev1.Server, error) {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return nil, err
	}
	return h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		st, err := h.serverState(rq.ctx, s)
		if err != nil {
			return err
		}
		if !slices.Contains(metadataStates, st.VM) {
			return conflict("Cannot '%s' instance %s while it is in vm_state %s", novaName, s.UID, st.VM)
		}
		tags, err := change(s.Spec.Tags)
		if err != nil {
			return err
		}
		s.Spec.Tags = tags
		return nil
	})
}

// checkURLTag is Nova's check of a tag named in the path, in its words.
func checkURLTag(tag string) error {
	why := ""
	switch {
	case tag == "":
		why = "'' is too short"
	case utf8.RuneCountInString(tag) > schemas.MaxTagLength:
		why = "'" + tag + "' is too long"
	case !tagPattern.MatchString(tag):
		why = "'" + tag + "' does not match '^[^,/]*$'"
	default:
		return nil
	}
	return badRequest("Tag '%s' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: %s", tag, why)
}
