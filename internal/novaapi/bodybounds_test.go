package novaapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kova-dev/kova/internal/testenv/alloc"
)

// The decoder's own bounds are tested in package validation; these are the handler's
// answers to bodies past them.

// TestDeepBodyGetsNovasMalformed: through the handler, on every path that reads a body,
// such a body gets Nova's 400 and the request allocates about the body's own size.
func TestDeepBodyGetsNovasMalformed(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	deep := strings.Repeat("[", 1<<20-1)
	for _, p := range []struct{ method, path string }{
		{http.MethodPost, "/servers"},
		{http.MethodPost, "/servers/" + srvUID + "/action"},
		{http.MethodPut, "/servers/" + srvUID + "/metadata"},
		{http.MethodPost, "/os-keypairs"},
	} {
		var r *response
		allocated := alloc.By(func() { r = e.do(p.method, p.path, deep) })
		r.expectFault(http.StatusBadRequest, "badRequest", msgMalformed)
		// Reading the body into memory costs about twice its size; decoding must add nothing.
		if allocated > 6<<20 {
			t.Errorf("%s %s allocated %d MiB", p.method, p.path, allocated>>20)
		}
	}
	wide := "[" + strings.Repeat("0,", 1<<19-2) + "0]"
	e.do(http.MethodPost, "/servers", wide).expectFault(http.StatusRequestEntityTooLarge, "overLimit", msgTooLarge)
}
