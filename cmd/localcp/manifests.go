package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fieldOwner names localcp as the server-side-apply manager of what it applies.
const fieldOwner = "kova-localcp"

// applyMode says what to do with an object that already exists.
type applyMode int

const (
	// serverSideApply makes the object match the manifest (RBAC must follow config/).
	serverSideApply applyMode = iota
	// createIfMissing leaves an existing object alone, so that a restart keeps
	// what the user did to the samples.
	createIfMissing
)

// readManifests returns the objects in the YAML and JSON files directly in
// dir, in file-name order, skipping what is not a Kubernetes object
// (kustomization.yaml, kustomizeconfig.yaml, empty documents). A missing
// directory holds no objects.
func readManifests(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, e := range entries {
		if e.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(e.Name())) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fileObjs, err := decodeManifests(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objs = append(objs, fileObjs...)
	}
	return objs, nil
}

// decodeManifests splits multi-document YAML (or JSON) into objects,
// expanding kind: List.
func decodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: doc}
		if !isKubernetesObject(u) {
			continue
		}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range list.Items {
				objs = append(objs, &list.Items[i])
			}
			continue
		}
		objs = append(objs, u)
	}
}

func isKubernetesObject(u *unstructured.Unstructured) bool {
	if u.Object == nil || u.GetAPIVersion() == "" || u.GetKind() == "" {
		return false
	}
	return !strings.HasPrefix(u.GetAPIVersion(), "kustomize.config.k8s.io/")
}

// hasWebhookConfigurations reports whether dir holds any admission webhook
// configuration for envtest to install.
func hasWebhookConfigurations(dir string) (bool, error) {
	objs, err := readManifests(dir)
	if err != nil {
		return false, err
	}
	for _, o := range objs {
		if k := o.GetKind(); k == "ValidatingWebhookConfiguration" || k == "MutatingWebhookConfiguration" {
			return true, nil
		}
	}
	return false, nil
}

// applier creates the objects of manifest directories in the cluster.
type applier struct {
	c   client.Client
	log *slog.Logger
}

// applyDir applies every object in dir, namespaces first. Each object is
// retried for up to timeout while the error looks transient: a CRD not yet
// served, or a webhook whose server is still starting.
func (a *applier) applyDir(ctx context.Context, dir string, mode applyMode, timeout time.Duration) error {
	objs, err := readManifests(dir)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		a.log.Info("no manifests to apply", "dir", dir)
		return nil
	}
	// Stable: the rest keeps file order.
	slices.SortStableFunc(objs, func(x, y *unstructured.Unstructured) int {
		return boolRank(y.GetKind() == "Namespace") - boolRank(x.GetKind() == "Namespace")
	})
	for _, o := range objs {
		if err := a.applyWithRetry(ctx, o, mode, timeout); err != nil {
			return fmt.Errorf("%s %s: %w", o.GetKind(), objectName(o), err)
		}
	}
	a.log.Info("applied manifests", "dir", dir, "objects", len(objs))
	return nil
}

func (a *applier) applyWithRetry(ctx context.Context, o *unstructured.Unstructured, mode applyMode, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = a.apply(ctx, o.DeepCopy(), mode)
		switch {
		case last == nil:
			return true, nil
		case isTransient(last):
			return false, nil
		default:
			return false, last
		}
	})
	if err != nil && last != nil && !errors.Is(err, last) {
		return fmt.Errorf("%w (gave up: %w)", last, err)
	}
	return err
}

func (a *applier) apply(ctx context.Context, o *unstructured.Unstructured, mode applyMode) error {
	if err := a.defaultNamespace(ctx, o); err != nil {
		return err
	}
	switch mode {
	case createIfMissing:
		// Look first: a Create of an existing object still goes through
		// admission, and so would fail while the webhook server is down.
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(o.GroupVersionKind())
		err := a.c.Get(ctx, client.ObjectKeyFromObject(o), existing)
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		// Record what was applied as `kubectl apply` does, so a later `kubectl apply -f`
		// of the same files patches these objects instead of warning about them.
		if err := setLastApplied(o); err != nil {
			return err
		}
		err = a.c.Create(ctx, o, client.FieldOwner(fieldOwner))
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	default:
		return a.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldOwner), client.ForceOwnership)
	}
}

// lastAppliedAnnotation is kubectl's record of the configuration it last applied.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

func setLastApplied(o *unstructured.Unstructured) error {
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[lastAppliedAnnotation] = string(data) + "\n"
	o.SetAnnotations(ann)
	return nil
}

// defaultNamespace puts a namespaced object without a namespace into
// "default", like kubectl does, and creates its namespace if missing.
func (a *applier) defaultNamespace(ctx context.Context, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	mapping, err := a.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return nil
	}
	if o.GetNamespace() == "" {
		o.SetNamespace(metav1.NamespaceDefault)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.GetNamespace()}}
	if err := a.c.Create(ctx, ns, client.FieldOwner(fieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns.Name, err)
	}
	return nil
}

// isTransient tells errors worth retrying while the control plane and the
// manager come up from errors in the manifests themselves.
func isTransient(err error) bool {
	return meta.IsNoMatchError(err) || // CRD not in discovery yet
		apierrors.IsInternalError(err) || // "failed calling webhook": its server is not up yet
		apierrors.IsServiceUnavailable(err) ||
		apierrors.IsTimeout(err) ||
		apierrors.IsServerTimeout(err) ||
		apierrors.IsTooManyRequests(err)
}

func objectName(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
