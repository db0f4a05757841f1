package novaserver

import (
	"context"
	"os"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/imagestore"
)

// The image API's data lives in a directory every replica shares (a ReadWriteMany
// PersistentVolumeClaim when deployed). An image's data goes with the image however the
// image is deleted: the image API removes it at once, and every replica removes the data of
// an Image its informer sees deleted (kubectl delete, a namespace going away). What a
// replica missed (it was down), and uploads a replica abandoned when it died, the sweep
// removes once they are older than imageSweepMinAge.
const (
	imageSweepInterval = 10 * time.Minute
	// imageSweepMinAge is far beyond an informer's lag, so data of an image made a moment
	// ago through another replica is never taken for an orphan.
	imageSweepMinAge = 10 * time.Minute
)

type imageData struct {
	store *imagestore.Store
	cache cache.Cache
}

func newImageData(dir string, maxBytes int64, c cache.Cache) (*imageData, error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kova-images-")
		if err != nil {
			return nil, err
		}
		klog.InfoS("Keeping uploaded image data in a temporary directory: set --image-store-dir to a directory every replica shares", "dir", tmp)
		dir = tmp
	}
	store, err := imagestore.New(dir, maxBytes)
	if err != nil {
		return nil, err
	}
	return &imageData{store: store, cache: c}, nil
}

// sweepEvery removes the data of deleted images as the informer sees them go, and sweeps
// the store now and every interval, until ctx ends.
func (d *imageData) sweepEvery(ctx context.Context, every time.Duration) {
	inf, err := d.cache.GetInformer(ctx, &computev1.Image{})
	if err != nil {
		klog.ErrorS(err, "Failed to watch images for their data")
		return
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if img, ok := obj.(client.Object); ok {
			if err := d.store.Delete(string(img.GetUID())); err != nil {
				klog.ErrorS(err, "Failed to remove a deleted image's data", "image", img.GetUID())
			}
		}
	}}); err != nil {
		klog.ErrorS(err, "Failed to watch images for their data")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		d.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *imageData) sweep(ctx context.Context) {
	var list computev1.ImageList
	if err := d.cache.List(ctx, &list); err != nil {
		klog.ErrorS(err, "Failed to list images for the image store's sweep")
		return
	}
	known := map[string]bool{}
	for _, img := range list.Items {
		known[string(img.UID)] = true
	}
	removed, err := d.store.Sweep(func(id string) bool { return known[id] }, imageSweepMinAge, time.Now())
	if err != nil {
		klog.ErrorS(err, "Failed to sweep the image store")
	}
	if len(removed) > 0 {
		klog.InfoS("Removed image data of deleted images and abandoned uploads", "removed", removed)
	}
}
