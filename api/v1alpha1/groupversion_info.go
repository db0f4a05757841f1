// Package v1alpha1 contains the compute.kova.dev API: servers, the actions taken on them,
// and the flavors, images, keypairs and networks they are built from.
// +kubebuilder:object:generate=true
// +groupName=compute.kova.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every Kova compute resource.
	GroupVersion = schema.GroupVersion{Group: "compute.kova.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes are the types each *_types.go file registers.
	knownTypes []runtime.Object
)

// register adds types to the scheme this package builds.
func register(objs ...runtime.Object) { knownTypes = append(knownTypes, objs...) }

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
