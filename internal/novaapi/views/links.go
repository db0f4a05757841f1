package views

// Link is one entry of a Nova "links" list.
type Link struct {
	// In Nova's order: rel, type, href.
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
	Href string `json:"href"`
}

// Ref is a resource another one refers to by id, with its links (a server's image and,
// before 2.47, its flavor; an image's server).
type Ref struct {
	ID    string `json:"id"`
	Links []Link `json:"links"`
}
