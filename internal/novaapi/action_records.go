package novaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// The actions that are a ServerAction with parameters: reboot, changePassword,
// createImage and createBackup (rebuild has its own file).

func (h *handler) reboot(rq *request, srv *computev1.Server, arg any) error {
	typ, _ := arg.(*js.Object).Get("type")
	kind := strings.ToUpper(typ.(string))
	if _, err := h.startAction(rq, srv, computev1.ActionReboot, func(s *computev1.ServerActionSpec) {
		s.Reboot = &computev1.RebootParams{Type: kind}
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) changePassword(rq *request, srv *computev1.Server, arg any) error {
	pw, _ := arg.(*js.Object).Get("adminPass")
	if err := h.checkAction(rq, srv, lifecycle.ActionChangePassword); err != nil {
		return err
	}
	// The password goes into a Secret, never into the action. The action is written first
	// and the Secret after it, owned by it from its first write: a crash at any instant
	// leaves either an action that fails for want of its Secret or a Secret that the
	// controller deletes when the action ends (and garbage collection with the action).
	name := actionName(srv, computev1.ActionChangePassword)
	sa, err := h.createAction(rq, srv, name, computev1.ActionChangePassword, func(s *computev1.ServerActionSpec) {
		s.ChangePassword = &computev1.ChangePasswordParams{SecretName: name}
	})
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: name,
			Labels: map[string]string{computev1.LabelServer: srv.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: computev1.GroupVersion.String(), Kind: "ServerAction",
				Name: sa.Name, UID: sa.UID}}},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"password": pw.(string)},
	}
	if err := h.client.Create(rq.ctx, secret); err != nil {
		return err
	}
	// A Secret that came after its action ended (refused, or tired of waiting for it) is of
	// no use: take it back.
	now := &computev1.ServerAction{}
	if err := h.client.Get(rq.ctx, client.ObjectKeyFromObject(sa), now); err == nil && now.Status.Phase == computev1.ActionFailed {
		_ = h.client.Delete(rq.ctx, secret)
	}
	return rq.json(http.StatusAccepted, nil)
}

// createImage makes a ServerAction and the Image it fills, so the image's id can be
// answered at once, as Nova answers it (queued in Glance before the snapshot starts).
// The Image is made exactly as the controller would make it, under the name the
// controller gives it, so whichever of the two comes first, there is one image.
func (h *handler) createImage(rq *request, srv *computev1.Server, arg any) error {
	var body struct {
		CreateImage struct {
			Name     string            `json:"name"`
			Metadata map[string]string `json:"metadata"`
		} `json:"createImage"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	ci := body.CreateImage
	if err := h.checkAction(rq, srv, lifecycle.ActionCreateImage); err != nil {
		return err
	}
	if !rq.version.AtLeast(39) && len(ci.Metadata) > maxMetaItems {
		return forbidden("Image metadata limit exceeded")
	}
	return h.snapshot(rq, srv, &computev1.CreateImageParams{ImageName: ci.Name, Metadata: ci.Metadata}, true)
}

// createBackup is a snapshot marked as a backup of a type, which rotates the server's
// older backups of that type once it is active (the controller, rules.BackupsToRotate).
// Nova's guard is createImage's (ACTIVE, STOPPED, PAUSED, SUSPENDED, no lock check), in
// its own name.
func (h *handler) createBackup(rq *request, srv *computev1.Server, arg any) error {
	var body struct {
		CreateBackup struct {
			Name       string            `json:"name"`
			BackupType string            `json:"backup_type"`
			Metadata   map[string]string `json:"metadata"`
		} `json:"createBackup"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	cb := body.CreateBackup
	// The schema let through only a whole number from 0, as a number or digits.
	v, _ := arg.(*js.Object).Get("rotation")
	rotation, err := strconv.ParseInt(fmt.Sprint(v), 10, 32)
	if err != nil {
		return badRequest("Invalid input for field/attribute rotation. Value: %v.", v)
	}
	if err := h.checkAction(rq, srv, lifecycle.ActionCreateImage); err != nil {
		return inBackupWords(err)
	}
	if len(cb.Metadata) > maxMetaItems {
		return forbidden("Image metadata limit exceeded")
	}
	// A check made again (another request came first) is createImage's too.
	return inBackupWords(h.snapshot(rq, srv, &computev1.CreateImageParams{ImageName: cb.Name, Metadata: cb.Metadata,
		Backup: &computev1.BackupParams{Type: cb.BackupType, Rotation: int32(rotation)}}, rotation > 0))
}

// inBackupWords is createImage's refusal in createBackup's name, as Nova words it.
func inBackupWords(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		ae.message = strings.Replace(ae.message, "'createImage'", "'createBackup'", 1)
	}
	return err
}

// snapshot starts a createImage ServerAction and makes its image at once (Nova answers the
// image's id before the snapshot starts): its id in the body from 2.45, before that in
// Location (which a backup with rotation 0, deleted once made, does not get).
func (h *handler) snapshot(rq *request, srv *computev1.Server, params *computev1.CreateImageParams, location bool) error {
	sa, err := h.createAction(rq, srv, actionName(srv, computev1.ActionCreateImage), computev1.ActionCreateImage, func(s *computev1.ServerActionSpec) {
		s.CreateImage = params
	})
	if err != nil {
		return err
	}
	img := rules.SnapshotImage(srv, sa)
	err = h.writer(rq.ctx).Create(rq.ctx, img)
	if apierrors.IsAlreadyExists(err) {
		err = h.client.Get(rq.ctx, client.ObjectKeyFromObject(img), img)
	}
	if err != nil {
		return err
	}
	id := string(img.UID)
	if rq.version.AtLeast(45) {
		return rq.json(http.StatusAccepted, map[string]any{"image_id": id})
	}
	if location {
		rq.w.Header().Set("Location", rq.selfHref("images", id))
	}
	return rq.json(http.StatusAccepted, nil)
}
