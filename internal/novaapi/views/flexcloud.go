package views

// FlexServer is the "server" of the FlexCloud create's answer (seed 003's
// POST /accounts/{accountId}/flexcloud/servers): a server just accepted, in BUILD, in
// the form that API's clients read (camelCase ids, named references, nulls where it has
// nothing yet).
type FlexServer struct {
	Status        string            `json:"status"`
	Updated       Opt[string]       `json:"updated"`
	HostID        string            `json:"hostId"`
	Addresses     map[string]any    `json:"addresses"`
	Links         []Link            `json:"links"`
	Image         NamedRef          `json:"image"`
	UserID        string            `json:"userId"`
	Flavor        NamedRef          `json:"flavor"`
	ID            string            `json:"id"`
	Zone          string            `json:"zone"`
	Name          string            `json:"name"`
	Created       string            `json:"created"`
	TenantID      Opt[string]       `json:"tenantId"`
	AccessIPv4    string            `json:"accessIPv4"`
	AccessIPv6    Opt[string]       `json:"accessIPv6"`
	Progress      int               `json:"progress"`
	Metadata      map[string]string `json:"metadata"`
	AdminPass     string            `json:"adminPass,omitempty"` // a generated one only in the first answer
	SecurityGroup *Ref              `json:"securityGroup,omitempty"`
}

// NamedRef is a reference with the referred resource's name.
type NamedRef struct {
	Name  string `json:"name"`
	Links []Link `json:"links"`
	ID    string `json:"id"`
}

// NewFlexServer is a FlexServer accepted just now: BUILD, nothing known yet.
func NewFlexServer(id, name, zone, userID string, self []Link, image, flavor NamedRef) *FlexServer {
	return &FlexServer{
		Status: "BUILD", Updated: Null[string](), Addresses: map[string]any{}, Links: self,
		Image: image, UserID: userID, Flavor: flavor, ID: id, Zone: zone, Name: name,
		TenantID: Null[string](), AccessIPv6: Null[string](), Metadata: map[string]string{},
	}
}
