package novaapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/imagestore"
)

// The image service (Glance v2) over the same Image objects as the compute API's image
// proxy, served by nova-api at /image: version discovery at /image and /image/versions, the
// API at /image/v2/images/... The serving layer authenticates and authorizes each request
// (RBAC on nova.kova.dev images, images/file, images/tags and images/members) and hands it here with the
// path after /image/v2 and the caller set, as for the compute API.
//
// Glance's errors are webob's pages (HTML, JSON or plain text, as Accept chooses), not
// Nova's fault bodies; its successes are JSON with Glance's own shapes.

// glanceError is a webob error as Glance raises it: an explanation, and for some errors a
// detail line under the default explanation of the code.
type glanceError struct {
	code        int
	explanation string
	detail      string
}

func (e *glanceError) Error() string { return e.explanation + " " + e.detail }

// webob's default explanations, which Glance leaves when it gives only a detail.
var glanceExplanations = map[int]string{
	http.StatusBadRequest:            "The server could not comply with the request since it is either malformed or otherwise incorrect.",
	http.StatusForbidden:             "Access was denied to this resource.",
	http.StatusNotFound:              "The resource could not be found.",
	http.StatusConflict:              "There was a conflict when trying to complete your request.",
	http.StatusRequestEntityTooLarge: "The body of your request was too large for this server.",
	http.StatusServiceUnavailable:    "The server is currently unavailable. Please try again at a later time.",
}

// gErr is an error whose message is the explanation.
func gErr(code int, msg string) *glanceError { return &glanceError{code: code, explanation: msg} }

// gDetail is an error with webob's default explanation and msg as its detail.
func gDetail(code int, msg string) *glanceError {
	return &glanceError{code: code, explanation: glanceExplanations[code], detail: msg}
}

// WriteGlanceError writes a Glance error page for the serving layer's own refusals.
func WriteGlanceError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	writeWebobPage(w, r.Header.Get("Accept"), code, msg, "", true)
}

// GlancePolicyMessage is Glance's 403 for a call its policy refuses, naming the policy rule
// of the call at path (after /image) with method.
func GlancePolicyMessage(method, path string) string {
	return "You are not authorized to complete " + glanceRule(method, path) + " action."
}

func glanceRule(method, path string) string {
	segs := splitPath(strings.TrimPrefix(path, "/v2"))
	switch {
	case len(segs) == 1 && method == http.MethodPost:
		return "add_image"
	case len(segs) == 1:
		return "get_images"
	case len(segs) == 2 && method == http.MethodDelete:
		return "delete_image"
	case len(segs) == 2 && method == http.MethodPatch:
		return "modify_image"
	case len(segs) == 3 && segs[2] == "file" && method == http.MethodPut:
		return "upload_image"
	case len(segs) == 3 && segs[2] == "file":
		return "download_image"
	case len(segs) == 4 && segs[2] == "tags":
		return "modify_image"
	case len(segs) == 3 && segs[2] == "members" && method == http.MethodPost:
		return "add_member"
	case len(segs) == 3 && segs[2] == "members":
		return "get_members"
	case len(segs) == 4 && segs[2] == "members" && method == http.MethodPut:
		return "modify_member"
	case len(segs) == 4 && segs[2] == "members" && method == http.MethodDelete:
		return "delete_member"
	case len(segs) == 4 && segs[2] == "members":
		return "get_member"
	}
	return "get_image"
}

// glance serves the image API.
type glance struct {
	h      *handler
	store  *imagestore.Store
	routes []glanceRoute
}

type glanceRoute struct {
	method  string
	pattern route
	fn      func(*glanceRequest) error
}

type glanceRequest struct {
	g      *glance
	h      *handler
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	caller Caller
	params []string
}

// Glance returns the image API handler. It serves paths relative to /image/v2
// ("/images", "/images/{id}/file", ...) for the Caller in the request's context.
func Glance(cfg Config) http.Handler {
	g := &glance{h: newHandler(cfg), store: cfg.ImageStore}
	add := func(method, pattern string, fn func(*glanceRequest) error) {
		g.routes = append(g.routes, glanceRoute{method, endpoint(method, pattern, nil), fn})
	}
	add(http.MethodGet, "images", (*glanceRequest).listImages)
	add(http.MethodPost, "images", (*glanceRequest).createImage)
	add(http.MethodGet, "images/{}", (*glanceRequest).showImage)
	add(http.MethodPatch, "images/{}", (*glanceRequest).updateImage)
	add(http.MethodDelete, "images/{}", (*glanceRequest).deleteImage)
	add(http.MethodPut, "images/{}/file", (*glanceRequest).upload)
	add(http.MethodGet, "images/{}/file", (*glanceRequest).download)
	add(http.MethodPut, "images/{}/tags/{}", (*glanceRequest).addTag)
	add(http.MethodDelete, "images/{}/tags/{}", (*glanceRequest).deleteTag)
	add(http.MethodGet, "images/{}/members", (*glanceRequest).listMembers)
	add(http.MethodPost, "images/{}/members", (*glanceRequest).addMember)
	add(http.MethodGet, "images/{}/members/{}", (*glanceRequest).showMember)
	add(http.MethodPut, "images/{}/members/{}", (*glanceRequest).updateMember)
	add(http.MethodDelete, "images/{}/members/{}", (*glanceRequest).deleteMember)
	return g
}

func (g *glance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := "req-" + uuid.NewString()
	w.Header().Set("X-Openstack-Request-Id", id)
	caller, ok := CallerFrom(r.Context())
	if !ok || caller.User == nil {
		WriteGlanceError(w, r, http.StatusUnauthorized, "This server could not verify that you are authorized to access the document you requested.")
		return
	}
	caller.Root = strings.TrimRight(caller.Root, "/")
	rq := &glanceRequest{g: g, h: g.h, w: w, r: r, ctx: r.Context(), caller: caller}
	if g.h.clientFor != nil {
		c, err := g.h.clientFor(caller.User)
		if err != nil {
			rq.fail(err)
			return
		}
		rq.ctx = context.WithValue(rq.ctx, writerKey{}, c)
	}
	rq.ctx = log.IntoContext(rq.ctx, log.FromContext(rq.ctx).WithValues("requestID", id, "tenant", caller.Tenant))
	segs := splitPath(r.URL.Path)
	allowed := false
	for _, rt := range g.routes {
		if _, ok := rt.pattern.match(rt.method, segs); ok {
			allowed = true
		}
		params, ok := rt.pattern.match(r.Method, segs)
		if !ok || rt.method != r.Method {
			continue
		}
		rq.params = params
		if err := rt.fn(rq); err != nil {
			rq.fail(err)
		}
		return
	}
	if allowed {
		// A path Glance has, with a method it has not: webob's 405.
		writeWebobPage(w, r.Header.Get("Accept"), http.StatusMethodNotAllowed,
			"The method "+r.Method+" is not allowed for this resource.", "", true)
		return
	}
	WriteGlanceError(w, r, http.StatusNotFound, glanceExplanations[http.StatusNotFound])
}

func (rq *glanceRequest) param(i int) string { return rq.params[i] }

// fail writes err as Glance would: its own errors as they are, the API server's refusals of
// the caller's writes (RBAC, admission) as Glance's 403 or 409, anything else a 500.
func (rq *glanceRequest) fail(err error) {
	var ge *glanceError
	if !errors.As(err, &ge) {
		ae := asAPIError(err)
		switch {
		case ae.code == http.StatusServiceUnavailable:
			ge = gErr(ae.code, ae.message)
		case ae.code >= 500:
			log.FromContext(rq.ctx).Error(err, "Failed image API request", "method", rq.r.Method, "path", rq.r.URL.Path)
			ge = gErr(http.StatusInternalServerError, "The server has either erred or is incapable of performing the requested operation.")
		default:
			ge = gErr(ae.code, ae.message)
		}
	}
	writeWebobPage(rq.w, rq.r.Header.Get("Accept"), ge.code, ge.explanation, ge.detail, true)
}

// json writes a success response as Glance's serializer does.
func (rq *glanceRequest) json(code int, v any) error {
	return (&request{w: rq.w}).json(code, v)
}

// readJSON reads a bounded JSON body.
func (rq *glanceRequest) readBody() ([]byte, error) {
	if rq.r.ContentLength > rq.h.maxBody {
		return nil, gErr(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, rq.h.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, gErr(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	if err != nil {
		return nil, gErr(http.StatusBadRequest, "Malformed JSON in request body.")
	}
	return body, nil
}

// glanceVersions are the versions Glance (Zed) lists, newest first.
var glanceVersions = []struct{ id, status string }{
	{"v2.16", "CURRENT"}, {"v2.15", "SUPPORTED"}, {"v2.14", "SUPPORTED"}, {"v2.9", "SUPPORTED"}, {"v2.7", "SUPPORTED"},
	{"v2.6", "SUPPORTED"}, {"v2.5", "SUPPORTED"}, {"v2.4", "SUPPORTED"}, {"v2.3", "SUPPORTED"}, {"v2.2", "SUPPORTED"},
	{"v2.1", "SUPPORTED"}, {"v2.0", "SUPPORTED"},
}

// GlanceVersions serves the image service's version documents, without authentication:
// GET "" (the service's root, 300 Multiple Choices as Glance answers it) and "/versions"
// (200), with links under root, the image endpoint as the client knows it.
func GlanceVersions(root func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeWebobPage(w, r.Header.Get("Accept"), http.StatusMethodNotAllowed,
				"The method "+r.Method+" is not allowed for this resource.", "", true)
			return
		}
		code := http.StatusMultipleChoices
		switch strings.Trim(r.URL.Path, "/") {
		case "":
		case "versions":
			code = http.StatusOK
		default:
			WriteGlanceError(w, r, http.StatusNotFound, glanceExplanations[http.StatusNotFound])
			return
		}
		self := strings.TrimRight(root(r), "/") + "/v2/"
		list := make([]map[string]any, 0, len(glanceVersions))
		for _, v := range glanceVersions {
			list = append(list, map[string]any{"id": v.id, "status": v.status, "links": []link{{Rel: "self", Href: self}}})
		}
		(&request{w: w}).json(code, map[string]any{"versions": list}) //nolint:errcheck // json never fails
	})
}
