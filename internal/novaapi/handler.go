package novaapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/imagestore"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// Config is what the handler needs from the serving layer.
type Config struct {
	// Client writes (creates, patches and deletes custom resources) as the shim itself.
	Client client.Client
	// Live reads past the cache, consistently (consistency.go): what a client may have just
	// written. Nil means Client.
	Live client.Reader
	// Cache serves every list and show: an informer-backed reader (a controller-runtime
	// cache), so no request lists against the API server. Nil means Client.
	Cache client.Reader
	// Admins says who is Nova's admin, the cloud operator. Nil means nobody is.
	Admins Admins
	// PublicNamespace holds the public images and shared networks every tenant sees;
	// default rules.DefaultPublicNamespace.
	PublicNamespace string
	// MaxBodyBytes bounds a request body; a bigger one is a 413. Default 1 MiB.
	MaxBodyBytes int64
	// MaxServersPerRequest bounds how many servers one create makes (max_count), whatever
	// the quota. 0 means 100.
	MaxServersPerRequest int
	// ClientFor, if set, returns a client that acts as the caller (impersonation). Writes
	// on the caller's behalf go through it, so the API server applies the caller's RBAC
	// and the admission webhooks record the real requester; Client keeps the shim's own
	// chores (the Secret a password travels in, reads past the cache).
	ClientFor func(user.Info) (client.Client, error)
	// ImageStore holds the data uploaded through the image API; nil serves no data.
	ImageStore *imagestore.Store
	// Servers keeps Cache's servers in Nova's default order (ServerIndex.Watch), so a page
	// of a list costs the page, not the fleet. Nil (or not caught up yet): each list sorts
	// what Cache holds.
	Servers *ServerIndex
	// ServerUIDs names a server of Cache by its uid, a Nova id (internal/uidindex: one map
	// entry a server, where a field index on metadata.uid costs about 0.7 KB). Nil: a server
	// is named past the cache, by a metadata-only LIST of its tenant's servers.
	ServerUIDs UIDIndex
}

// UIDIndex names a cached object by its uid, and one lately deleted: a uid is never used
// again, so a server the informer saw deleted is a 404 without a LIST of its tenant (the
// answer a client deleting a server polls for).
type UIDIndex interface {
	Lookup(uid types.UID) (types.NamespacedName, bool)
	Deleted(uid types.UID) (types.NamespacedName, bool)
}

const defaultMaxBodyBytes = 1 << 20

// Nova's defaults that its answers show.
const (
	maxListLimit   = 1000   // CONF.api.max_limit: the longest page
	defaultAZ      = "nova" // CONF.default_availability_zone
	defaultRxTx    = "1.0"  // a flavor's rxtx_factor
	maxMetaItems   = 128    // the metadata_items quota, which the CRDs enforce too
	maxServerTags  = 50     // instance.MAX_TAG_COUNT
	maxTagLength   = 60     // tag.MAX_TAG_LENGTH
	passwordLength = 12     // utils.generate_password
)

// handler serves the compute API over Kova's custom resources.
type handler struct {
	client    client.Client
	live      client.Reader
	clientFor func(user.Info) (client.Client, error)
	cache     client.Reader
	index     *ServerIndex
	// named finds the cache's informer indexes by field (cachedNaming).
	named *informerIndexes
	// serverUIDs is Config.ServerUIDs.
	serverUIDs UIDIndex
	admins     Admins
	public     string
	maxBody    int64
	// maxPerRequest bounds the servers one create makes, whatever the quota.
	maxPerRequest int
	now           func() time.Time
	routes        []route
}

func newHandler(cfg Config) *handler {
	h := &handler{
		client:     cfg.Client,
		live:       cfg.Live,
		clientFor:  cfg.ClientFor,
		cache:      cfg.Cache,
		index:      cfg.Servers,
		serverUIDs: cfg.ServerUIDs,
		admins:     cfg.Admins,
		public:     cfg.PublicNamespace,
		maxBody:    cfg.MaxBodyBytes,
		now:        time.Now,
	}
	if h.cache == nil {
		h.cache = cfg.Client
	}
	if h.live == nil {
		h.live = cfg.Client
	}
	h.named = newInformerIndexes(h.cache)
	if h.public == "" {
		h.public = rules.DefaultPublicNamespace
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxBodyBytes
	}
	h.maxPerRequest = cfg.MaxServersPerRequest
	if h.maxPerRequest <= 0 {
		h.maxPerRequest = defaultMaxServersPerRequest
	}
	return h
}

// New returns the compute API handler. It serves paths relative to the compute root
// (/servers, /flavors/detail, ...) for the Caller the serving layer put in the request's
// context.
func New(cfg Config) http.Handler {
	h := newHandler(cfg)
	h.routes = h.computeRoutes()
	return h
}

type writerKey struct{}

// writer is the client that writes on the caller's behalf: an impersonating one when
// Config.ClientFor is set, else the shim's own.
func (h *handler) writer(ctx context.Context) client.Client {
	if c, ok := ctx.Value(writerKey{}).(client.Client); ok {
		return c
	}
	return h.client
}

// request is one API call in flight.
type request struct {
	h       *handler
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	caller  Caller
	version apiVersion
	id      string // Nova's request id, req-<uuid>
	params  []string
	body    []byte
	hasBody bool

	adminOnce sync.Once
	admin     bool
	adminErr  error

	// checked is what the last check of an action saw of the action the server's note
	// names (checkAction), for the action made next (createAction).
	checked checkedNote
	// floating is the tenant's floating IPs, read once per request (floatingip_views.go).
	floating floatingMemo
	// bookmarkBase is bookmarkRoot(caller.Root), worked out once (a list's every server
	// has bookmark links) by the goroutine that renders.
	bookmarkBase string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	rq := &request{h: h, w: w, r: hr, ctx: hr.Context()}
	rq.id = w.Header().Get("X-Openstack-Request-Id")
	if rq.id == "" {
		rq.id = "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", rq.id)
		w.Header().Set("X-Compute-Request-Id", rq.id)
	}
	caller, ok := CallerFrom(hr.Context())
	if !ok || caller.User == nil {
		writeFault(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	caller.Root = strings.TrimRight(caller.Root, "/")
	rq.caller = caller
	if h.clientFor != nil {
		c, err := h.clientFor(caller.User)
		if err != nil {
			writeFault(w, http.StatusInternalServerError, "Unexpected API Error.")
			return
		}
		rq.ctx = context.WithValue(rq.ctx, writerKey{}, c)
	}
	rq.ctx = log.IntoContext(rq.ctx, log.FromContext(rq.ctx).WithValues("requestID", rq.id, "tenant", caller.Tenant))

	// The body limit comes first, as oslo's sizelimit middleware sits before Nova.
	if err := rq.readBody(); err != nil {
		writeError(w, hr, err)
		return
	}
	v, verr := requestedVersion(hr.Header)
	if verr != nil {
		writeFault(w, verr.code, verr.message)
		return
	}
	rq.version = v
	setVersionHeaders(w.Header(), v)
	if err := checkContentType(hr); err != nil {
		writeFault(w, err.code, err.message)
		return
	}
	rq.serve(h.routes)
}

func (rq *request) serve(routes []route) {
	segs := splitPath(rq.r.URL.Path)
	for _, rt := range routes {
		params, ok := rt.match(rq.r.Method, segs)
		if !ok {
			continue
		}
		if (rt.min > 0 && !rq.version.AtLeast(rt.min)) || (rt.max > 0 && !rq.version.AtMost(rt.max)) {
			// Nova's controller answers a method outside its microversions with its fault.
			writeFault(rq.w, http.StatusNotFound, msgResourceNotFound)
			return
		}
		rq.params = params
		if err := rt.fn(rq); err != nil {
			rq.fail(err)
		}
		return
	}
	// No route: Nova's router never reaches a controller, and webob answers.
	writePage(rq.w, rq.r.Header.Get("Accept"), http.StatusNotFound, msgResourceNotFound)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return []string{""}
	}
	return strings.Split(p, "/")
}

func (rq *request) fail(err error) {
	ae := asAPIError(err)
	if ae.code >= 500 && ae.code != http.StatusNotImplemented {
		log.FromContext(rq.ctx).Error(err, "Failed compute API request", "method", rq.r.Method, "path", rq.r.URL.Path)
	}
	writeError(rq.w, rq.r, ae)
}

// readBody reads a bounded body. Nova treats an empty body of a POST or PUT as None.
func (rq *request) readBody() *apiError {
	if rq.r.Body == nil || rq.r.Body == http.NoBody {
		return nil
	}
	if rq.r.ContentLength > rq.h.maxBody {
		return tooLarge(rq.h.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, rq.h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(rq.h.maxBody)
		}
		return badRequest(msgMalformed)
	}
	rq.body = body
	rq.hasBody = len(body) > 0
	return nil
}

// checkContentType refuses a body type Nova does not read (415); no type, or text/plain,
// counts as JSON.
func checkContentType(r *http.Request) *apiError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return newError(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
	}
	switch mt {
	case "text/plain", "application/json", "application/vnd.openstack.compute+json":
		return nil
	}
	return newError(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
}

// decodedBody is the body as Nova's validators see it: nil when empty, an apiError when
// it is not JSON.
func (rq *request) decodedBody() (any, *apiError) {
	if !rq.hasBody {
		return nil, nil
	}
	v, err := js.Decode(rq.body)
	if errors.Is(err, js.ErrTooManyItems) {
		return nil, newError(http.StatusRequestEntityTooLarge, msgTooLarge)
	}
	if err != nil {
		return nil, badRequest(msgMalformed)
	}
	return v, nil
}

// validBody decodes the body and checks it against s.
func (rq *request) validBody(s *js.Schema) (any, *apiError) {
	v, err := rq.decodedBody()
	if err != nil {
		return nil, err
	}
	if err := validateBody(s, v); err != nil {
		return nil, err
	}
	return v, nil
}

// json writes a success response.
func (rq *request) json(code int, v any) error {
	rq.w.Header().Set("Content-Type", "application/json")
	if v == nil {
		if code != http.StatusNoContent {
			rq.w.Header().Set("Content-Length", "0")
		}
		rq.w.WriteHeader(code)
		return nil
	}
	return rq.encoded(code, marshal(v))
}

// encoded answers with a body marshal has made.
func (rq *request) encoded(code int, body []byte) error {
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rq.w.WriteHeader(code)
	_, _ = rq.w.Write(body)
	return nil
}

// isAdmin asks once per request whether the caller is Nova's admin (the cloud operator).
func (rq *request) isAdmin() (bool, error) {
	rq.adminOnce.Do(func() {
		if rq.h.admins == nil {
			return
		}
		rq.admin, rq.adminErr = rq.h.admins.IsAdmin(rq.ctx, rq.caller.User)
	})
	return rq.admin, rq.adminErr
}

func (rq *request) userName() string { return rq.caller.User.GetName() }

func (rq *request) param(i int) string { return rq.params[i] }
