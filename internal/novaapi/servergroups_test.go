package novaapi

import (
	"net/http"
	"slices"
	"testing"
)

// Nova's answers, recorded from the peer (Zed) with the same requests.
func TestServerGroupErrorsAsNova(t *testing.T) {
	e := newEnv(t, standard()...)
	for _, tc := range []struct {
		name, version, body, msg string
	}{
		{"2.64 keys at 2.1", "2.1", `{"server_group":{"name":"sg-probe","policy":"affinity","rules":{"max_server_per_host":2}}}`,
			"Invalid input for field/attribute server_group. Value: {'name': 'sg-probe', 'policy': 'affinity', 'rules': {'max_server_per_host': 2}}. 'policies' is a required property"},
		{"soft policy before 2.15", "2.1", `{"server_group":{"name":"sg-probe","policies":["soft-affinity"]}}`,
			"Invalid input for field/attribute 0. Value: soft-affinity. 'soft-affinity' is not one of ['anti-affinity', 'affinity']"},
		{"rules with affinity", "2.64", `{"server_group":{"name":"sg-probe","policy":"affinity","rules":{"max_server_per_host":2}}}`,
			"Only anti-affinity policy supports rules."},
		{"policies at 2.64", "2.64", `{"server_group":{"name":"sg-probe","policies":["soft-affinity"]}}`,
			"Invalid input for field/attribute server_group. Value: {'name': 'sg-probe', 'policies': ['soft-affinity']}. 'policy' is a required property"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.as("demo", tc.version).do(http.MethodPost, "/os-server-groups", tc.body).expectFault(400, "badRequest", tc.msg)
		})
	}
	e.do(http.MethodGet, "/os-server-groups?limit=abc", "").expectFault(400, "badRequest",
		"Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'")
	e.do(http.MethodGet, "/os-server-groups/nope", "").expectFault(404, "itemNotFound", "Instance group nope could not be found.")
}

// The keys of a group's view at each microversion, as the peer answered.
func TestServerGroupViewKeys(t *testing.T) {
	e := newEnv(t, standard()...)
	for _, tc := range []struct {
		version, body string
		want          []string
	}{
		{"2.1", `{"server_group":{"name":"g","policies":["affinity"]}}`, []string{"id", "members", "metadata", "name", "policies"}},
		{"2.13", `{"server_group":{"name":"g","policies":["affinity"]}}`, []string{"id", "members", "metadata", "name", "policies", "project_id", "user_id"}},
		{"2.64", `{"server_group":{"name":"g","policy":"anti-affinity","rules":{"max_server_per_host":"2"}}}`,
			[]string{"id", "members", "name", "policy", "project_id", "rules", "user_id"}},
	} {
		g := e.as("demo", tc.version).do(http.MethodPost, "/os-server-groups", tc.body).expect(200).object()["server_group"].(map[string]any)
		if got := keysOf(g); !slices.Equal(got, tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.version, got, tc.want)
		}
		if tc.version == "2.64" && g["rules"].(map[string]any)["max_server_per_host"] != float64(2) {
			t.Errorf("rules %v", g["rules"])
		}
	}
}
