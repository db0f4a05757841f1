package compute

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kova-dev/kova/internal/lifecycle"
)

// powerNames are the names the debug endpoint takes for a power state: Nova's
// (nova/compute/power_state.py), lower case.
var powerNames = map[string]lifecycle.PowerState{
	"nostate": lifecycle.PowerNoState, "running": lifecycle.PowerRunning, "paused": lifecycle.PowerPaused,
	"shutdown": lifecycle.PowerShutdown, "crashed": lifecycle.PowerCrashed, "suspended": lifecycle.PowerSuspended,
}

// DebugHandler serves ChangeBehindKova over HTTP, for demos on a running manager:
//
//	POST /instances/{id}/behind-kova?power=shutdown   (nostate, running, paused, shutdown, crashed, suspended)
//	POST /instances/{id}/behind-kova?vanish=true
//
// with silent=true to send no lifecycle event. {id} is the Server's UID. It answers 204,
// or 400, 404 (no such instance) or 409 (an operation is running, or the instance is not
// on a host) with the reason as plain text. It changes the hypervisor's state, so it must
// only ever listen on loopback.
func (s *Simulated) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /instances/{id}/behind-kova", func(w http.ResponseWriter, r *http.Request) {
		ch, err := outOfBand(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch err := s.ChangeBehindKova(r.Context(), r.PathValue("id"), ch); {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case errors.Is(err, ErrBusy), errors.Is(err, ErrNoHost):
			http.Error(w, err.Error(), http.StatusConflict)
		default:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

func outOfBand(r *http.Request) (OutOfBand, error) {
	q := r.URL.Query()
	ch := OutOfBand{Vanish: q.Get("vanish") == "true", Silent: q.Get("silent") == "true"}
	name := strings.ToLower(q.Get("power"))
	switch {
	case ch.Vanish && name != "":
		return ch, errors.New("give power or vanish=true, not both")
	case ch.Vanish:
		return ch, nil
	}
	p, ok := powerNames[name]
	if !ok {
		return ch, fmt.Errorf("power %q: want one of nostate, running, paused, shutdown, crashed, suspended, or vanish=true", name)
	}
	ch.Power = p
	return ch, nil
}
