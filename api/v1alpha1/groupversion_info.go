// Package v1alpha1 contains the compute.kova.dev API: servers, the actions taken on them,
// and the flavors, images, keypairs and networks they are built from.
// +kubebuilder:object:generate=true
// +groupName=compute.kova.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every Kova compute resource.
	GroupVersion = schema.GroupVersion{Group: "compute.kova.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
