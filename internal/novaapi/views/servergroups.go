package views

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

// ServerGroup is Nova's server group (server_groups.py _format_server_group), in GET
// /os-server-groups, GET /os-server-groups/{id} and POST's answer:
//
//	2.1+   id, name, policies (a one-item list), members, metadata (always {})
//	2.13+  project_id, user_id
//	2.64+  policy and rules ({} or {"max_server_per_host": n}) instead of policies and
//	       metadata
type ServerGroup struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Policies  []string           `json:"policies,omitempty"`
	Policy    string             `json:"policy,omitempty"`
	Rules     *map[string]int    `json:"rules,omitempty"`
	Members   []string           `json:"members"`
	Metadata  *map[string]string `json:"metadata,omitempty"`
	ProjectID Opt[string]        `json:"project_id,omitzero"`
	UserID    Opt[string]        `json:"user_id,omitzero"`
}

// NewServerGroup is g's view at v, with its members' ids.
func NewServerGroup(g *computev1.ServerGroup, members []string, v microversion.Version) ServerGroup {
	out := ServerGroup{ID: string(g.UID), Name: g.Spec.Name, Members: members}
	if out.Members == nil {
		out.Members = []string{}
	}
	if v.AtLeast(64) {
		out.Policy = g.Spec.Policy
		rules := map[string]int{}
		if g.Spec.Rules != nil && g.Spec.Rules.MaxServerPerHost != nil {
			rules["max_server_per_host"] = int(*g.Spec.Rules.MaxServerPerHost)
		}
		out.Rules = &rules
	} else {
		out.Policies = []string{g.Spec.Policy}
		out.Metadata = &map[string]string{}
	}
	if v.AtLeast(13) {
		out.ProjectID, out.UserID = Some(g.Namespace), Some(g.Spec.UserID)
	}
	return out
}
