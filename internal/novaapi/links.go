package novaapi

import (
	"net/url"
	"regexp"
	"strings"

	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// link is one entry of a Nova "links" list.
type link = views.Link

// selfHref is the versioned URL of a resource under the caller's compute root.
func (rq *request) selfHref(collection, id string) string {
	return rq.caller.Root + "/" + collection + "/" + id
}

// bookmarkHref is Nova's version-less URL of a resource: the compute root without its
// version segment (http://host/v2.1/demo/servers/x -> http://host/demo/servers/x). A root
// whose version is not its last or next-to-last segment (the Kubernetes aggregated path,
// .../v1/namespaces/demo) has no version-less form, and the bookmark is the self link.
func (rq *request) bookmarkHref(collection, id string) string {
	if rq.bookmarkBase == "" {
		rq.bookmarkBase = bookmarkRoot(rq.caller.Root)
	}
	return rq.bookmarkBase + "/" + collection + "/" + id
}

var versionSegment = regexp.MustCompile(`^v[0-9]+(\.[0-9]+)?$`)

func bookmarkRoot(root string) string {
	u, err := url.Parse(root)
	if err != nil {
		return root
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := len(segs) - 1; i >= 0 && i >= len(segs)-2; i-- {
		if versionSegment.MatchString(segs[i]) {
			segs = append(segs[:i:i], segs[i+1:]...)
			u.Path = "/" + strings.Join(segs, "/")
			if u.Path == "/" {
				u.Path = ""
			}
			return strings.TrimRight(u.String(), "/")
		}
	}
	return root
}

// links is the self and bookmark pair every Nova resource carries.
func (rq *request) links(collection, id string) []link {
	return []link{
		{Href: rq.selfHref(collection, id), Rel: "self"},
		{Href: rq.bookmarkHref(collection, id), Rel: "bookmark"},
	}
}

// imageLinks are an image's self and bookmark links plus Nova's third, the image in the
// image service (rel alternate, of Glance's type). Kova is its own image service: Image
// objects served at the version-less compute root, so the alternate is that URL.
func (rq *request) imageLinks(id string) []link {
	return append(rq.links("images", id),
		link{Href: rq.bookmarkHref("images", id), Rel: "alternate", Type: "application/vnd.openstack.image"})
}

// bookmark is the single bookmark link Nova puts in a server's image and flavor.
func (rq *request) bookmark(collection, id string) []link {
	return []link{{Href: rq.bookmarkHref(collection, id), Rel: "bookmark"}}
}

// nextLink is the "next" link of a paginated list: the same query with the marker set
// to the last item shown.
func (rq *request) nextLink(collection, marker string) []link {
	q := rq.r.URL.Query()
	q.Set("marker", marker)
	return []link{{Href: rq.caller.Root + "/" + collection + "?" + q.Encode(), Rel: "next"}}
}

// paginationLinks gives a list its "next" link when Nova would: the page is as long as
// the limit asked for (or the maximum).
func (rq *request) paginationLinks(collection string, shown int, limit int, last string) []link {
	if limit > 0 && shown == limit {
		return rq.nextLink(collection, last)
	}
	return nil
}

// listBody is a list answer: the items under key and, when the page is full,
// "<key>_links" with the next page. collection is the list's path, to which a detail
// list adds "/detail".
func (rq *request) listBody(key, collection string, detail bool, items []any, limit int, last string) map[string]any {
	if detail {
		collection += "/detail"
	}
	body := map[string]any{key: items}
	if len(items) > 0 {
		if l := rq.paginationLinks(collection, len(items), limit, last); l != nil {
			body[key+"_links"] = l
		}
	}
	return body
}

// lastID is the id of a page's last item, the next page's marker.
func lastID[T any](items []T, id func(T) string) string {
	if len(items) == 0 {
		return ""
	}
	return id(items[len(items)-1])
}

// page is Nova's marker and limit over an ordered list: the items after the one whose
// id is the query's marker, at most limit of them. missing words a marker that is not
// in the list (each API has its own words for it).
func page[T any](q *js.Object, items []T, id func(T) string, missing func(marker string) error) ([]T, int, error) {
	limit, marker, err := limitAndMarker(q)
	if err != nil {
		return nil, 0, err
	}
	if marker != "" {
		at := -1
		for i, it := range items {
			if id(it) == marker {
				at = i
				break
			}
		}
		if at < 0 {
			return nil, 0, missing(marker)
		}
		items = items[at+1:]
	}
	if len(items) > limit {
		items = items[:limit]
	}
	return items, limit, nil
}

// markerNotFound is the servers, flavors and images wording of an unknown marker;
// markerMissing is the keypairs and instance actions one (MarkerNotFound).
func markerNotFound(m string) error { return badRequest("marker [%s] not found", m) }
func markerMissing(m string) error  { return badRequest("Marker %s could not be found.", m) }
