package identity

import (
	"crypto/sha256"
	"encoding/hex"
)

// region is the one region of the catalog.
const region = "RegionOne"

// Where each service is served on the direct endpoint: compute as /v2.1/{project} (the
// path that names its tenant, so a client needs nothing else), the image service at
// /image, networking at /networking, identity at /identity. Public and internal
// endpoints are the same URL: the direct endpoint is one address.
var services = []struct{ typ, name, path string }{
	{"identity", "keystone", "/identity"},
	{"compute", "nova", "/v2.1/%s"},
	{"image", "glance", "/image"},
	{"network", "neutron", "/networking"},
}

type endpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

type service struct {
	Endpoints []endpoint `json:"endpoints"`
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Name      string     `json:"name"`
}

// catalog is the service catalog of a token scoped to project.
func (s *Service) catalog(project string) []service {
	out := make([]service, 0, len(services))
	for _, svc := range services {
		url := s.cfg.Endpoint + svc.path
		if svc.typ == "compute" {
			url = s.cfg.Endpoint + "/v2.1/" + project
		}
		var eps []endpoint
		for _, iface := range []string{"public", "internal"} {
			eps = append(eps, endpoint{ID: stableID("endpoint", svc.typ, iface, url), Interface: iface, Region: region, RegionID: region, URL: url})
		}
		out = append(out, service{Endpoints: eps, ID: stableID("service", svc.typ), Type: svc.typ, Name: svc.name})
	}
	return out
}

// stableID is a 32-hex-digit id derived from parts: the same on every replica and restart.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
