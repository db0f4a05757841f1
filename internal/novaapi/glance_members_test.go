package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// glanceIDs are the ids of the images a Glance list shows.
func glanceIDs(r *response) []string {
	var ids []string
	for _, it := range r.object()["images"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

func hasID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// expectGlance checks a Glance error: its code and its explanation in the JSON page.
func (r *response) expectGlance(code int, msg string) {
	r.t.Helper()
	r.expect(code)
	if !strings.Contains(r.Body.String(), msg) {
		r.t.Errorf("body %s\nwant the message %q", r.Body.String(), msg)
	}
}

func TestGlanceMembers(t *testing.T) {
	e := newGlanceEnv(t, cirros())
	other, stranger := e.in("other"), e.in("stranger")
	json := []string{"Accept", "application/json"}
	id := e.do(http.MethodPost, "/images", `{"name": "shared1", "disk_format": "raw", "container_format": "bare"}`).expect(201).object()["id"].(string)
	private := e.do(http.MethodPost, "/images", `{"name": "private1", "visibility": "private"}`).expect(201).object()["id"].(string)

	// The owner adds a member: pending, in Glance's order of keys (the peer's answer).
	r := e.do(http.MethodPost, "/images/"+id+"/members", `{"member": "other"}`).expect(200)
	if got := strings.Join(keysInOrder(t, r.Body.Bytes()), " "); got != "member_id image_id status created_at updated_at schema" {
		t.Errorf("keys %s", got)
	}
	if m := r.object(); m["member_id"] != "other" || m["image_id"] != id || m["status"] != "pending" || m["schema"] != "/v2/schemas/member" {
		t.Errorf("added %v", m)
	}
	e.do(http.MethodPost, "/images/"+id+"/members", `{"member": "other"}`, json...).expectGlance(409, "Member other is duplicated for image "+id)
	e.do(http.MethodPost, "/images/"+private+"/members", `{"member": "other"}`, json...).expectGlance(403, "Not allowed to create members for image "+private+".")
	e.do(http.MethodPost, "/images/"+id+"/members", `{"members": "x"}`, json...).expectGlance(400, "Member to be added not specified")
	e.do(http.MethodPost, "/images/"+id+"/members", `{"member": ""}`, json...).expectGlance(400, "Member can't be empty")
	e.do(http.MethodPost, "/images/"+id+"/members", `{"member": "Not_A_Project"}`, json...).expect(400)
	e.do(http.MethodPost, "/images/"+id+"/members", ``, json...).expectGlance(400, "Body expected in request.")

	// Another tenant sees nothing of it; the member sees it, but lists it only once accepted.
	stranger.do(http.MethodGet, "/images/"+id, "").expect(404)
	stranger.do(http.MethodGet, "/images/"+id+"/members", "", json...).expectGlance(404, "Image "+id+" not found.")
	stranger.do(http.MethodPut, "/images/"+id+"/members/stranger", `{"status": "accepted"}`, json...).expect(404)
	other.do(http.MethodGet, "/images/"+id, "").expect(200)
	if hasID(glanceIDs(other.do(http.MethodGet, "/images", "").expect(200)), id) {
		t.Error("a pending image is listed by default")
	}
	if !hasID(glanceIDs(other.do(http.MethodGet, "/images?member_status=pending", "").expect(200)), id) {
		t.Error("member_status=pending does not list the pending image")
	}
	other.do(http.MethodGet, "/images?member_status=maybe", "", json...).expectGlance(400, "Invalid status: maybe")

	// Only the member answers, and only for itself.
	e.do(http.MethodPut, "/images/"+id+"/members/other", `{"status": "accepted"}`, json...).expectGlance(403, "Not allowed to update members for image "+id+".")
	other.do(http.MethodPost, "/images/"+id+"/members", `{"member": "third"}`, json...).expectGlance(403, "Not allowed to create members for image "+id+".")
	other.do(http.MethodPut, "/images/"+id+"/members/third", `{"status": "accepted"}`, json...).expectGlance(404, "third not found in the member list of the image "+id+".")
	other.do(http.MethodPut, "/images/"+id+"/members/other", `{"status": "maybe"}`, json...).expectGlance(400, `Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".`)
	other.do(http.MethodPut, "/images/"+id+"/members/other", `{"state": "accepted"}`, json...).expectGlance(400, "Status not specified")
	if m := other.do(http.MethodPut, "/images/"+id+"/members/other", `{"status": "accepted"}`).expect(200).object(); m["status"] != "accepted" {
		t.Errorf("answered %v", m)
	}
	answer := &computev1.ImageMember{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: "other", Name: id}, answer); err != nil ||
		answer.Spec.Status != computev1.ImageMemberAccepted || answer.Spec.ImageNamespace != tenant {
		t.Fatalf("the answer in the member's namespace: %v %+v", err, answer.Spec)
	}
	for _, q := range []string{"", "?visibility=shared", "?member_status=accepted"} {
		if !hasID(glanceIDs(other.do(http.MethodGet, "/images"+q, "").expect(200)), id) {
			t.Errorf("GET /images%s does not list the accepted image", q)
		}
	}
	if hasID(glanceIDs(other.do(http.MethodGet, "/images?member_status=rejected", "").expect(200)), id) {
		t.Error("member_status=rejected lists an accepted image")
	}

	// The owner sees every member, a member only itself.
	e.do(http.MethodPost, "/images/"+id+"/members", `{"member": "third"}`).expect(200)
	owners := e.do(http.MethodGet, "/images/"+id+"/members", "").expect(200).object()
	if ms := owners["members"].([]any); len(ms) != 2 || owners["schema"] != "/v2/schemas/members" {
		t.Errorf("owner's list %v", owners)
	}
	mine := other.do(http.MethodGet, "/images/"+id+"/members", "").expect(200).object()["members"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["member_id"] != "other" || mine[0].(map[string]any)["status"] != "accepted" {
		t.Errorf("member's list %v", mine)
	}
	other.do(http.MethodGet, "/images/"+id+"/members/third", "", json...).expectGlance(404, "third not found in the member list of the image "+id+".")
	e.do(http.MethodGet, "/images/"+id+"/members/third", "").expect(200)
	e.do(http.MethodGet, "/images/"+private+"/members/other", "", json...).expectGlance(404, "Only shared images have members.")
	e.do(http.MethodGet, "/images/"+private+"/members", "", json...).expectGlance(403, "Not allowed to list members for image "+private+": Only shared images have members.")

	// Only the owner removes a member; once removed, the image is gone for it.
	other.do(http.MethodDelete, "/images/"+id+"/members/other", "", json...).expectGlance(403, "Not allowed to delete members for image "+id+".")
	e.do(http.MethodDelete, "/images/"+id+"/members/other", "").expect(204)
	e.do(http.MethodDelete, "/images/"+id+"/members/other", "", json...).expectGlance(404, "other not found in the member list of the image "+id+".")
	other.do(http.MethodGet, "/images/"+id, "").expect(404)
	if hasID(glanceIDs(other.do(http.MethodGet, "/images?member_status=all", "").expect(200)), id) {
		t.Error("a former member still lists the image")
	}
}

// An image has at most 128 members (Glance's image_member_quota), with Glance's 413.
func TestGlanceMemberLimit(t *testing.T) {
	img := &computev1.Image{}
	*img = *cirros()
	img.Namespace, img.Name, img.Spec.Visibility = tenant, "full", "shared"
	for i := range computev1.MaxImageMembers {
		img.Spec.Members = append(img.Spec.Members, computev1.ImageMembership{Project: fmt.Sprintf("t%d", i)})
	}
	e := newGlanceEnv(t, img)
	e.do(http.MethodPost, "/images/"+imageUID+"/members", `{"member": "one-more"}`, "Accept", "application/json").expectGlance(413,
		"Image member limit exceeded for image "+imageUID+": The limit has been exceeded on the number of allowed image members for this image. Attempted: 129, Maximum: 128:")
}
