package novaapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/imagestore"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// An image's data (PUT and GET /v2/images/{id}/file) and its tags.
//
// An upload takes a queued image to saving, streams the body into the image store (hashed
// on the way, renamed into place once whole), and then to active with Glance's size,
// checksum (MD5) and os_hash_value (SHA-512). The saving step is a write under the image's
// resourceVersion, so of two uploads at once one is refused (409). A failed upload leaves
// the image queued and no data. The image API is the status writer of uploaded images.

// setImageStatus writes an uploaded image's status with the shim's own identity (the image
// API, like the controller for other images, is the only writer of its status), under the
// resourceVersion it was read at.
func (g *glance) setImageStatus(ctx context.Context, img *computev1.Image, change func(*computev1.ImageStatus)) (*computev1.Image, error) {
	next := img.DeepCopy()
	change(&next.Status)
	now := metav1.Now()
	next.Status.Updated = &now
	next.Status.ObservedGeneration = next.Generation
	if err := g.h.client.Status().Patch(ctx, next, client.MergeFromWithOptions(img, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, err
	}
	return next, nil
}

func (rq *glanceRequest) upload() error {
	if mt, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return gErr(http.StatusUnsupportedMediaType, "The request media type "+mt+" is not supported by this server.")
	}
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.mayModify(img); err != nil {
		return err
	}
	if rq.g.store == nil || img.Spec.Source.Upload == nil {
		// Images of a URL or a snapshot get their data elsewhere, as a Glance image with a
		// location does.
		return gErr(http.StatusConflict, "Image status transition from "+string(views.ImagePhase(img))+" to saving is not allowed")
	}
	if st := views.ImagePhase(img); st != computev1.ImageQueued {
		return gErr(http.StatusConflict, "Image status transition from "+string(st)+" to saving is not allowed")
	}
	if rq.r.ContentLength > rq.g.store.MaxSize() {
		return rq.tooLarge()
	}
	saving, err := rq.g.setImageStatus(rq.ctx, img, func(s *computev1.ImageStatus) { s.Status = computev1.ImageSaving })
	if apierrors.IsConflict(err) {
		return gErr(http.StatusConflict, "Image status transition from saving to saving is not allowed")
	}
	if err != nil {
		return err
	}
	id := string(img.UID)
	info, err := rq.g.store.Put(id, rq.r.Body)
	if err == nil {
		_, err = rq.g.setImageStatus(rq.ctx, saving, func(s *computev1.ImageStatus) {
			s.Status = computev1.ImageActive
			s.Progress = 100
			s.SizeBytes = info.Size
			s.Checksum, s.OSHashAlgo, s.OSHashValue = info.Checksum, imagestore.HashAlgo, info.Hash
		})
		if err != nil {
			_ = rq.g.store.Delete(id)
		}
	}
	if err != nil {
		// Back to queued, so the upload can be tried again; the store kept nothing.
		if _, qerr := rq.g.setImageStatus(context.WithoutCancel(rq.ctx), saving, func(s *computev1.ImageStatus) {
			s.Status = computev1.ImageQueued
		}); qerr != nil {
			log.FromContext(rq.ctx).Error(qerr, "Failed to return an image to queued after a failed upload", "image", id)
		}
		if errors.Is(err, imagestore.ErrTooLarge) {
			return rq.tooLarge()
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, io.ErrUnexpectedEOF) {
			return gErr(http.StatusBadRequest, "The image data was not received whole.")
		}
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (rq *glanceRequest) tooLarge() error {
	return gErr(http.StatusRequestEntityTooLarge,
		"Image exceeds the storage quota: the image size limit is "+strconv.FormatInt(rq.g.store.MaxSize(), 10)+" bytes.")
}

// download is GET /v2/images/{id}/file: the data, or 204 for an image without data (queued,
// or one whose data Kova does not hold, as Glance answers for an image with no location).
func (rq *glanceRequest) download() error {
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	if rq.g.store == nil || views.ImagePhase(img) != computev1.ImageActive || img.Spec.Source.Upload == nil {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	f, err := rq.g.store.Open(string(img.UID))
	if errors.Is(err, os.ErrNotExist) {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	h := rq.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(img.Status.SizeBytes, 10))
	if img.Status.Checksum != "" {
		h.Set("Content-Md5", img.Status.Checksum)
	}
	rq.w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(rq.w, io.LimitReader(f, img.Status.SizeBytes))
	return nil
}

// addTag is PUT /v2/images/{id}/tags/{tag}: idempotent.
func (rq *glanceRequest) addTag() error {
	tag := rq.param(1)
	if len(tag) > glanceMaxString {
		return gErr(http.StatusBadRequest, "Provided object does not match schema 'image': '"+tag+"' is too long")
	}
	return rq.changeTags(func(i *computev1.Image) error {
		if !containsString(i.Spec.Tags, tag) {
			i.Spec.Tags = append(i.Spec.Tags, tag)
		}
		return checkGlanceBounds(i)
	})
}

// deleteTag is DELETE /v2/images/{id}/tags/{tag}: 404 for a tag the image does not have.
func (rq *glanceRequest) deleteTag() error {
	tag := rq.param(1)
	return rq.changeTags(func(i *computev1.Image) error {
		var kept []string
		for _, t := range i.Spec.Tags {
			if t != tag {
				kept = append(kept, t)
			}
		}
		if len(kept) == len(i.Spec.Tags) {
			return gErr(http.StatusNotFound, glanceExplanations[http.StatusNotFound])
		}
		i.Spec.Tags = kept
		return nil
	})
}

func (rq *glanceRequest) changeTags(change func(*computev1.Image) error) error {
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.mayModify(img); err != nil {
		return err
	}
	if _, err := patchFresh(rq.ctx, rq.h.writer(rq.ctx), img, change); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
