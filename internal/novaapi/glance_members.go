package novaapi

import (
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// Image members (Glance v2 /images/{id}/members): the owner adds and removes members (the
// Image's spec.members, written as the owner), each member answers for itself (an
// ImageMember in its own namespace, written as the member), and each sees what Glance shows
// it: the owner every member, a member only itself. RBAC has already allowed the call
// (images/members in the caller's namespace); what is left is Glance's ownership rules,
// with its messages.

// glanceMember is Glance's member view, its keys in Glance's order.
type glanceMember struct {
	MemberID  string `json:"member_id"`
	ImageID   string `json:"image_id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Schema    string `json:"schema"`
}

// memberView is m's membership of img as Glance shows it, with answer the member's answer
// (nil: none yet). Created is when it became a member (the image's creation when that was
// not recorded); updated is the answer's last write, if later.
func memberView(img *computev1.Image, m *computev1.ImageMembership, answer *computev1.ImageMember) glanceMember {
	created := img.CreationTimestamp.Time
	if m.Since != nil {
		created = m.Since.Time
	}
	updated := created
	if rules.AnswerFor(answer, img) {
		if t := lastWrite(answer); t.After(updated) {
			updated = t
		}
	}
	return glanceMember{
		MemberID: m.Project, ImageID: string(img.UID), Status: string(rules.ImageMemberStatus(img, m.Project, answer)),
		CreatedAt: glanceTime(created), UpdatedAt: glanceTime(updated), Schema: "/v2/schemas/member",
	}
}

// lastWrite is when obj was last written, as the API server records it for each writer.
func lastWrite(obj client.Object) time.Time {
	t := obj.GetCreationTimestamp().Time
	for _, mf := range obj.GetManagedFields() {
		if mf.Time != nil && mf.Time.After(t) {
			t = mf.Time.Time
		}
	}
	return t
}

// memberImage finds the image of a members call: Glance's own 404 words, and 403 for an
// image that is not shared ("Only shared images have members").
func (rq *glanceRequest) memberImage(refusal string) (*computev1.Image, error) {
	id := rq.param(0)
	img, ok, err := rq.h.image(rq.ctx, rq.caller.Tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gErr(http.StatusNotFound, "Image "+id+" not found.")
	}
	if img.Spec.Visibility != "shared" {
		return nil, gErr(http.StatusForbidden, refusal)
	}
	return img, nil
}

// answer is tenant's answer to img, read past the cache (a member sees its own answer at
// once), or nil.
func (rq *glanceRequest) answer(img *computev1.Image, tenant string) (*computev1.ImageMember, error) {
	a := &computev1.ImageMember{}
	err := rq.h.live.Get(rq.ctx, client.ObjectKey{Namespace: tenant, Name: string(img.UID)}, a)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// membership is member's membership of img as the caller may see it: the owner sees every
// member, a member only itself; else Glance's 404.
func (rq *glanceRequest) membership(img *computev1.Image, member string) (*computev1.ImageMembership, error) {
	if img.Namespace == rq.caller.Tenant || member == rq.caller.Tenant {
		for i := range img.Spec.Members {
			if img.Spec.Members[i].Project == member {
				return &img.Spec.Members[i], nil
			}
		}
	}
	return nil, gErr(http.StatusNotFound, fmt.Sprintf("%s not found in the member list of the image %s.", member, img.UID))
}

// listMembers is GET /v2/images/{id}/members.
func (rq *glanceRequest) listMembers() error {
	id := rq.param(0)
	img, err := rq.memberImage("Not allowed to list members for image " + id + ": Only shared images have members.")
	if err != nil {
		return err
	}
	out := []glanceMember{}
	for i := range img.Spec.Members {
		m := &img.Spec.Members[i]
		if img.Namespace != rq.caller.Tenant && m.Project != rq.caller.Tenant {
			continue
		}
		a, err := rq.answer(img, m.Project)
		if err != nil {
			return err
		}
		out = append(out, memberView(img, m, a))
	}
	return rq.json(http.StatusOK, map[string]any{"members": out, "schema": "/v2/schemas/members"})
}

// showMember is GET /v2/images/{id}/members/{member}: what the caller may not see is a 404.
func (rq *glanceRequest) showMember() error {
	img, err := rq.memberImage("Only shared images have members.")
	if ge, ok := err.(*glanceError); ok && ge.code == http.StatusForbidden {
		ge.code = http.StatusNotFound // Glance hides the refusal
	}
	if err != nil {
		return err
	}
	m, err := rq.membership(img, rq.param(1))
	if err != nil {
		return err
	}
	a, err := rq.answer(img, m.Project)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, memberView(img, m, a))
}

// readMemberBody reads a members call's body: a JSON object holding key, else Glance's 400s.
func (rq *glanceRequest) readMemberBody(key, missing, form string) (any, error) {
	body, err := rq.readBody()
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, gErr(http.StatusBadRequest, "Body expected in request.")
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, gErr(http.StatusBadRequest, form)
	}
	val, ok := obj[key]
	if !ok {
		return nil, gErr(http.StatusBadRequest, missing)
	}
	return val, nil
}

// addMember is POST /v2/images/{id}/members: the owner makes a tenant a member, pending.
func (rq *glanceRequest) addMember() error {
	id := rq.param(0)
	v, err := rq.readMemberBody("member", "Member to be added not specified", `Expected a member in the form: {"member": "image_id"}`)
	if err != nil {
		return err
	}
	member, _ := v.(string)
	if v == nil || v == "" || v == false {
		return gErr(http.StatusBadRequest, "Member can't be empty")
	}
	refused := "Not allowed to create members for image " + id + "."
	img, err := rq.memberImage(refused)
	if err != nil {
		return err
	}
	if img.Namespace != rq.caller.Tenant {
		return gErr(http.StatusForbidden, refused)
	}
	if msgs := validation.IsDNS1123Label(member); len(msgs) > 0 {
		// A member is a project, and a project is a namespace: nothing else can ever answer.
		return gErr(http.StatusBadRequest, fmt.Sprintf("Member %v is not a project: a project is a namespace name (%s).", v, msgs[0]))
	}
	since := metav1.NewTime(time.Now().Truncate(time.Second))
	out, err := patchFresh(rq.ctx, rq.h.writer(rq.ctx), img, func(i *computev1.Image) error {
		if i.UID != img.UID {
			return gErr(http.StatusNotFound, "Image "+id+" not found.")
		}
		for _, m := range i.Spec.Members {
			if m.Project == member {
				return gErr(http.StatusConflict, "Member "+member+" is duplicated for image "+id)
			}
		}
		if len(i.Spec.Members) >= computev1.MaxImageMembers {
			return gErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("Image member limit exceeded for image %s: "+
				"The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d:",
				id, len(i.Spec.Members)+1, computev1.MaxImageMembers))
		}
		i.Spec.Members = append(i.Spec.Members, computev1.ImageMembership{Project: member, Since: &since})
		return nil
	})
	if apierrors.IsNotFound(err) {
		return gErr(http.StatusNotFound, "Image "+id+" not found.")
	}
	if err != nil {
		return err
	}
	m := &out.Spec.Members[len(out.Spec.Members)-1]
	// A new membership starts pending, whatever a former one was answered (Glance).
	return rq.json(http.StatusOK, memberView(out, m, nil))
}

// updateMember is PUT /v2/images/{id}/members/{member}: a member answers, in its own
// namespace and as itself; the owner may not answer for it.
func (rq *glanceRequest) updateMember() error {
	id := rq.param(0)
	v, err := rq.readMemberBody("status", "Status not specified", `Expected a status in the form: {"status": "status"}`)
	if err != nil {
		return err
	}
	refused := "Not allowed to update members for image " + id + "."
	img, err := rq.memberImage(refused)
	if err != nil {
		return err
	}
	if img.Namespace == rq.caller.Tenant {
		return gErr(http.StatusForbidden, refused)
	}
	m, err := rq.membership(img, rq.param(1))
	if err != nil {
		return err
	}
	status, _ := v.(string)
	switch computev1.ImageMemberStatus(status) {
	case computev1.ImageMemberPending, computev1.ImageMemberAccepted, computev1.ImageMemberRejected:
	default:
		return gErr(http.StatusBadRequest, `Incorrect request: Status must be "pending", "accepted" or "rejected".`)
	}
	a, err := rq.answerWith(img, computev1.ImageMemberStatus(status))
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, memberView(img, m, a))
}

// answerWith writes the caller's answer to img, as the caller: made, or changed if there.
func (rq *glanceRequest) answerWith(img *computev1.Image, status computev1.ImageMemberStatus) (*computev1.ImageMember, error) {
	c := rq.h.writer(rq.ctx)
	var out *computev1.ImageMember
	err := retry.OnError(retry.DefaultRetry, func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }, func() error {
		a, err := rq.answer(img, rq.caller.Tenant)
		if err != nil {
			return err
		}
		if a == nil || !rules.AnswerFor(a, img) {
			if a != nil { // an answer to an image of the same id elsewhere cannot be: a stale one
				if err := deleteExact(rq.ctx, c, a, ""); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
			a = &computev1.ImageMember{
				ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, Name: string(img.UID)},
				Spec:       computev1.ImageMemberSpec{ImageNamespace: img.Namespace, Status: status},
			}
			if err := c.Create(rq.ctx, a); err != nil {
				return err
			}
			out = a
			return nil
		}
		a.Spec.Status = status
		if err := c.Update(rq.ctx, a); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// deleteMember is DELETE /v2/images/{id}/members/{member}: the owner ends a membership.
func (rq *glanceRequest) deleteMember() error {
	id := rq.param(0)
	refused := "Not allowed to delete members for image " + id + "."
	img, err := rq.memberImage(refused)
	if err != nil {
		return err
	}
	if img.Namespace != rq.caller.Tenant {
		return gErr(http.StatusForbidden, refused)
	}
	m, err := rq.membership(img, rq.param(1))
	if err != nil {
		return err
	}
	member := m.Project
	_, err = patchFresh(rq.ctx, rq.h.writer(rq.ctx), img, func(i *computev1.Image) error {
		kept := i.Spec.Members[:0:0]
		for _, m := range i.Spec.Members {
			if m.Project != member {
				kept = append(kept, m)
			}
		}
		if len(kept) == len(i.Spec.Members) || i.UID != img.UID {
			return gErr(http.StatusNotFound, fmt.Sprintf("%s not found in the member list of the image %s.", member, id))
		}
		i.Spec.Members = kept
		return nil
	})
	if apierrors.IsNotFound(err) {
		return gErr(http.StatusNotFound, "Image "+id+" not found.")
	}
	if err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
