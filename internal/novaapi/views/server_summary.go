package views

// ServerSummary is a server in GET /servers (not /detail): id, name and links.
type ServerSummary struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Links []Link `json:"links"`
}

// ServerCreated is POST /servers's "server": the new server's id and links, its disk
// config and security groups as asked, and the admin password (a generated one only in
// the first answer; a retry can repeat only one the client gave).
type ServerCreated struct {
	ID             string          `json:"id"`
	Links          []Link          `json:"links"`
	DiskConfig     string          `json:"OS-DCF:diskConfig"`
	SecurityGroups []SecurityGroup `json:"security_groups"`
	AdminPass      Opt[string]     `json:"adminPass,omitzero"`
}
