package novaapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// A deleted server's history, as the admission webhook and the controller leave it: a stop
// and the delete record, labelled with the server's uid. From 2.21 os-instance-actions lists
// it (create, stop, delete; newest first), below it and for another tenant the server is
// unknown, and a server made again under the name shows none of it.
func TestDeletedServerInstanceActions(t *testing.T) {
	gone := server("srv-a", srvUID, base)
	gone.Annotations[annRequestID] = "req-create"
	record := rules.DeleteRecord(gone, "alice", "req-delete")
	deleted := metav1.NewTime(base.Add(time.Hour))
	record.CreationTimestamp = deleted
	record.Status = computev1.ServerActionStatus{Phase: computev1.ActionSucceeded, StartTime: &deleted, CompletionTime: &deleted}
	stopped := metav1.NewTime(base.Add(time.Minute))
	stop := &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "srv-a-stop", CreationTimestamp: stopped,
			Labels: map[string]string{computev1.LabelServer: "srv-a", computev1.LabelServerUID: srvUID}},
		Spec:   computev1.ServerActionSpec{ServerName: "srv-a", Action: computev1.ActionStop, RequestedBy: "demo", RequestID: "req-stop"},
		Status: computev1.ServerActionStatus{Phase: computev1.ActionSucceeded, StartTime: &stopped, CompletionTime: &stopped},
	}
	again := server("srv-a", "d1d1d1d1-0000-0000-0000-000000000000", base.Add(2*time.Hour))
	e := newEnv(t, standard(record, stop, again)...)
	path := "/servers/" + srvUID + "/os-instance-actions"

	list := e.as("demo", "2.21").do(http.MethodGet, path, "").expect(200).object()["instanceActions"].([]any)
	var got []string
	for _, a := range list {
		a := a.(map[string]any)
		got = append(got, a["action"].(string)+" "+a["request_id"].(string)+" "+a["user_id"].(string))
		if a["instance_uuid"] != srvUID || a["project_id"] != tenant {
			t.Errorf("entry %v", a)
		}
	}
	if want := []string{"delete req-delete alice", "stop req-stop demo", "create req-create demo"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if start := list[2].(map[string]any)["start_time"]; start != base.UTC().Format("2006-01-02T15:04:05.000000") {
		t.Errorf("create's start_time %v", start)
	}
	one := e.as("demo", "2.51").do(http.MethodGet, path+"/req-delete", "").expect(200).object()["instanceAction"].(map[string]any)
	if ev := one["events"].([]any); len(ev) != 1 || ev[0].(map[string]any)["event"] != "compute_terminate_instance" || ev[0].(map[string]any)["result"] != "Success" {
		t.Errorf("delete's events %v", one["events"])
	}

	e.as("demo", "2.20").do(http.MethodGet, path, "").expectFault(404, "itemNotFound", "Instance "+srvUID+" could not be found.")
	e.in("other").as("demo", "2.21").do(http.MethodGet, path, "").expectFault(404, "itemNotFound", "Instance "+srvUID+" could not be found.")
	unknown := "00000000-0000-0000-0000-000000000000"
	e.as("demo", "2.21").do(http.MethodGet, "/servers/"+unknown+"/os-instance-actions", "").
		expectFault(404, "itemNotFound", "Instance "+unknown+" could not be found.")

	list = e.as("demo", "2.21").do(http.MethodGet, "/servers/"+string(again.UID)+"/os-instance-actions", "").expect(200).object()["instanceActions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["action"] != "create" {
		t.Errorf("the server made again lists %v", list)
	}
}

// A REST DELETE notes its request id and caller on the server for the webhook that records
// the delete, so the delete's instance action carries the id the DELETE answered with.
func TestDeleteNotesRequest(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Finalizers = []string{computev1.Finalizer}
	e := newEnv(t, standard(srv)...)
	id := e.do(http.MethodDelete, "/servers/"+srvUID, "").expect(204).Header().Get("X-Openstack-Request-Id")
	cur := e.getServer("srv-a")
	if cur.DeletionTimestamp.IsZero() {
		t.Fatal("not deleted")
	}
	if got := rules.DeleteRequestID(cur, "demo"); got == "" || got != id {
		t.Errorf("noted %q, the DELETE answered %q", got, id)
	}
	if got := rules.DeleteRequestID(cur, "someone-else"); got != "" {
		t.Errorf("another user's delete takes %q", got)
	}
}

// The DELETE is made on the noted server only (a resourceVersion precondition): the API
// server admits a delete first against its watch cache's copy, which may lack the note, and
// the webhook would record the delete with a made-up request id. A write landing between
// the note and the DELETE (the controller's, here) fails the precondition; the server is
// noted again and deleted, and the copy deleted carries the DELETE's request id.
func TestDeleteMadeOnTheNotedServer(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Finalizers = []string{computev1.Finalizer}
	var notes, deletes, refused int
	var deletedWith string
	e := newEnvIntercepted(t, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := c.Patch(ctx, obj, p, opts...); err != nil {
				return err
			}
			if obj.GetAnnotations()[computev1.AnnotationDeleteRequestID] == "" {
				return nil
			}
			if notes++; notes == 1 {
				// The controller writes the server just after the first note.
				cur := &computev1.Server{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
					return err
				}
				cur.Status.TaskState = "powering-off"
				return c.Status().Update(ctx, cur)
			}
			return nil
		},
		Delete: checkedDelete(t, func(pre *metav1.Preconditions, cur client.Object, err error) {
			deletes++
			if pre == nil || pre.ResourceVersion == nil || pre.UID == nil {
				t.Errorf("DELETE %d without a uid and resourceVersion precondition: %+v", deletes, pre)
			}
			if err != nil {
				refused++
			} else {
				deletedWith = rules.DeleteRequestID(cur.(*computev1.Server), "demo")
			}
		}),
	}, standard(srv)...)
	id := e.do(http.MethodDelete, "/servers/"+srvUID, "").expect(204).Header().Get("X-Openstack-Request-Id")
	if cur := e.getServer("srv-a"); cur.DeletionTimestamp.IsZero() {
		t.Fatal("not deleted")
	}
	if notes != 2 || deletes != 2 || refused != 1 {
		t.Errorf("%d notes, %d DELETEs, %d refused; want 2, 2, 1", notes, deletes, refused)
	}
	if deletedWith != id {
		t.Errorf("the server deleted was noted %q, the DELETE answered %q", deletedWith, id)
	}
}

// A server deleted and made again under its name between the DELETE's note and the DELETE
// is not the one the client named: the DELETE is refused by its uid precondition and
// answers the 404 of Nova's delete for an instance gone since it was read, and the server
// made again stays.
func TestDeleteOfAServerMadeAgain(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	again := "d1d1d1d1-0000-0000-0000-000000000000"
	e := newEnvIntercepted(t, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := c.Patch(ctx, obj, p, opts...); err != nil {
				return err
			}
			if err := c.Delete(ctx, server("srv-a", srvUID, base)); err != nil {
				return err
			}
			made := server("srv-a", again, base.Add(time.Hour))
			made.Finalizers = []string{computev1.Finalizer}
			return c.Create(ctx, made)
		},
		Delete: checkedDelete(t, func(*metav1.Preconditions, client.Object, error) {}),
	}, standard(srv)...)
	e.do(http.MethodDelete, "/servers/"+srvUID, "").expectFault(404, "itemNotFound", "Instance could not be found")
	if cur := e.getServer("srv-a"); string(cur.UID) != again || !cur.DeletionTimestamp.IsZero() {
		t.Errorf("the server made again: uid %s, deleted at %v", cur.UID, cur.DeletionTimestamp)
	}
}

// checkedDelete is a Delete interceptor that checks the DELETE's preconditions as the API
// server does, refusing with its error (the fake client checks only the resourceVersion,
// and words the refusal otherwise), and tells seen each DELETE, the object as it was, and
// the refusal.
func checkedDelete(t *testing.T, seen func(*metav1.Preconditions, client.Object, error)) func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
	return func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
		t.Helper()
		var o client.DeleteOptions
		o.ApplyOptions(opts)
		cur := obj.DeepCopyObject().(client.Object)
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
			return err
		}
		var err error
		if o.Preconditions != nil {
			pre := storage.Preconditions{UID: o.Preconditions.UID, ResourceVersion: o.Preconditions.ResourceVersion}
			if err = pre.Check(cur.GetNamespace()+"/"+cur.GetName(), cur); err != nil {
				gvk, _ := c.GroupVersionKindFor(cur)
				gr := schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind) + "s"}
				err = storeerr.InterpretUpdateError(err, gr, cur.GetName())
			}
		}
		seen(o.Preconditions, cur, err)
		if err != nil {
			return err
		}
		return c.Delete(ctx, obj)
	}
}

// deleteExact deletes the object read, never one made again under its name since: that
// DELETE reads as not found, and the object made again stays.
func TestDeleteExact(t *testing.T) {
	kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "kp", UID: "a0a0a0a0-0000-0000-0000-000000000000"}}
	e := newEnvIntercepted(t, interceptor.Funcs{Delete: checkedDelete(t, func(*metav1.Preconditions, client.Object, error) {})}, kp)
	ctx := context.Background()
	read := kp.DeepCopy()
	if err := e.c.Delete(ctx, kp); err != nil {
		t.Fatal(err)
	}
	again := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "kp", UID: "b0b0b0b0-0000-0000-0000-000000000000"}}
	if err := e.c.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := deleteExact(ctx, e.c, read, ""); !apierrors.IsNotFound(err) {
		t.Errorf("deleting the keypair read: %v, want not found", err)
	}
	cur := &computev1.Keypair{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(again), cur); err != nil || cur.UID != again.UID {
		t.Errorf("the keypair made again: %v, uid %s", err, cur.UID)
	}
	if err := deleteExact(ctx, e.c, cur, ""); err != nil {
		t.Errorf("deleting the keypair made again: %v", err)
	}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(again), cur); !apierrors.IsNotFound(err) {
		t.Errorf("the keypair made again is still there: %v", err)
	}
}
