package compute

import "fmt"

// Server group policies (Nova's os-server-groups). The hard ones are filters, the soft
// ones weights, as in Nova's ServerGroupAffinityFilter / ServerGroupAntiAffinityFilter and
// ServerGroupSoftAffinityWeigher / ServerGroupSoftAntiAffinityWeigher.
const (
	PolicyAffinity         = "affinity"
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAffinity     = "soft-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

// Group is the server group an instance is placed with. The driver remembers it on the
// instance's record and places every member under its one lock, from the hosts of the
// members it holds itself, so two boots into one group at once see each other: whichever
// is placed second is placed knowing where the first went.
type Group struct {
	ID     string `json:"id"`
	Policy string `json:"policy"`
	// MaxPerHost is anti-affinity's max_server_per_host (microversion 2.64); 0 means 1.
	MaxPerHost int `json:"maxPerHost,omitempty"`
}

// membersOn counts, per host, the placed members of g other than the instance self.
// Called with s.mu held.
func (s *Simulated) membersOn(g *Group, self string) map[string]int {
	counts := map[string]int{}
	for id, e := range s.insts {
		if id == self || e.rec.Group == nil || e.rec.Group.ID != g.ID || e.rec.Host == "" {
			continue
		}
		counts[e.rec.Host]++
		if e.rec.OldHost != "" && e.rec.OldHost != e.rec.Host {
			counts[e.rec.OldHost]++ // a pending resize holds both hosts
		}
	}
	return counts
}

// placeIn is place for a member of g (or for no group, when g is nil): the hosts g's
// policy allows, the soft policies preferring hosts with more (affinity) or fewer (anti)
// members before more free RAM. Called with s.mu held.
func (s *Simulated) placeIn(f Resources, g *Group, self string) *hostState {
	if g == nil {
		return s.place(f, nil, nil)
	}
	counts := s.membersOn(g, self)
	switch g.Policy {
	case PolicyAffinity:
		if len(counts) == 0 {
			return s.place(f, nil, nil)
		}
		return s.place(f, func(h *hostState) bool { return counts[h.name] > 0 }, nil)
	case PolicyAntiAffinity:
		limit := max(g.MaxPerHost, 1)
		return s.place(f, func(h *hostState) bool { return counts[h.name] < limit }, nil)
	case PolicySoftAffinity:
		return s.place(f, nil, func(h *hostState) int { return counts[h.name] })
	case PolicySoftAntiAffinity:
		return s.place(f, nil, func(h *hostState) int { return -counts[h.name] })
	}
	return s.place(f, nil, nil)
}

// noValidHostInGroup is the fault detail of a member the group's policy left no host for.
func noValidHostInGroup(f Resources, g *Group, hosts int) string {
	if g == nil {
		return noValidHostDetails(f, hosts)
	}
	return fmt.Sprintf("No host among %d has room for vcpus=%d, ram=%dMiB, disk=%dGiB that server group %s's %s policy allows",
		hosts, f.VCPUs, f.RAMMiB, f.DiskGiB, g.ID, g.Policy)
}
