package novaapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// getConsoleOutput is os-getConsoleOutput: the tail of the server's serial console.
// Kova's hypervisors are simulated, so the console is the boot log the server's recorded
// state tells (its image, flavor, host, addresses, power), the same on every replica and
// every read; Nova's answer otherwise: 409 for a server without a host yet, the last
// length lines (all for -1 or null, none for 0).
func (h *handler) getConsoleOutput(rq *request, srv *computev1.Server, arg any) error {
	cur, _, err := h.shownState(rq.ctx, srv)
	if err != nil {
		return err
	}
	if cur.Status.Host == "" {
		return conflict("Instance %s is not ready", cur.UID)
	}
	length := -1
	if obj, ok := arg.(*js.Object); ok {
		if v, ok := obj.Get("length"); ok && v != nil {
			// The schema let through only whole numbers from -1, as numbers or strings.
			if length, err = strconv.Atoi(fmt.Sprint(v)); err != nil {
				return badRequest("Invalid input for field/attribute length. Value: %v.", v)
			}
		}
	}
	return rq.json(http.StatusOK, map[string]any{"output": tailLines(consoleLog(cur), length)})
}

// consoleLog is a simulated server's console since it last booted.
func consoleLog(srv *computev1.Server) string {
	lines := []string{
		"[    0.000000] Linux version 6.1.0-kova (simulated hypervisor " + srv.Status.Host + ")",
		"[    0.000000] Command line: console=ttyS0 root=/dev/vda1",
		fmt.Sprintf("[    0.120000] instance %s: flavor %s, image %s", srv.UID, srv.Status.Flavor, srv.Status.Image),
	}
	for _, a := range srv.Status.Addresses {
		lines = append(lines, fmt.Sprintf("[    1.500000] %s: IPv%d address %s", a.Network, a.Version, a.Address))
	}
	lines = append(lines, "[    2.000000] Reached target multi-user.target", "", srv.DisplayName()+" login: ")
	if srv.Status.Status == "SHUTOFF" {
		lines = append(lines, "[    9.000000] reboot: Power down")
	}
	return strings.Join(lines, "\n")
}

// tailLines is Nova's _tail_log: the last n lines of log, all of them if n < 0.
func tailLines(log string, n int) string {
	if n < 0 {
		return log
	}
	if n == 0 {
		return ""
	}
	lines := strings.Split(log, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
