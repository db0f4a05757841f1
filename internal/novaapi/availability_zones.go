package novaapi

import "net/http"

// listAvailabilityZones is GET /os-availability-zone: Kova's hosts are in one zone, Nova's
// default (CONF.default_availability_zone), which servers show and boots may name. The
// detailed list (/detail, hosts and services) is Nova's admin-only view and not served.
func (h *handler) listAvailabilityZones(rq *request) error {
	return rq.json(http.StatusOK, map[string]any{"availabilityZoneInfo": []any{
		map[string]any{"zoneName": defaultAZ, "zoneState": map[string]any{"available": true}, "hosts": nil},
	}})
}
