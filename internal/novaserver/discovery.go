package novaserver

import (
	"net/http"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/endpoints"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	genericapiserver "k8s.io/apiserver/pkg/server"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// The API group of the shim, registered with kube-apiserver as APIService v1.nova.kova.dev.
const (
	GroupName   = computev1.NovaAPIGroup
	Version     = "v1"
	groupPath   = "/apis/" + GroupName
	versionPath = groupPath + "/" + Version
)

// GroupVersion is the shim's group and version.
var GroupVersion = schema.GroupVersion{Group: GroupName, Version: Version}

// codecs encode discovery documents and the Status bodies of the generic handler chain.
var codecs = newCodecs()

func newCodecs() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	scheme.AddUnversionedTypes(schema.GroupVersion{Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
	return serializer.NewCodecFactory(scheme)
}

// apiResources names what RBAC rules can name, as kube-apiserver parses the Nova paths
// (/servers/{id}/action is resource servers, subresource action, verb create).
//
// The verbs never include list, although GET on a collection is a list for RBAC: the
// garbage collector and the quota controller watch every resource advertising list and
// watch, and kube-controller-manager lists every resource advertising list and delete in a
// namespace it deletes; none of them could read Nova's JSON. (For the last one this is not
// enough, see kubernetesOnly.) Nor are there objects to clean up: the shim stores nothing.
var apiResources = []metav1.APIResource{
	{Name: "servers", SingularName: "server", Namespaced: true, Kind: "Server", Verbs: verbs("get", "create", "update", "delete")},
	{Name: "servers/action", Namespaced: true, Kind: "Server", Verbs: verbs("create")},
	{Name: "servers/ips", Namespaced: true, Kind: "Server", Verbs: verbs("get")},
	{Name: "servers/metadata", Namespaced: true, Kind: "Server", Verbs: verbs("get", "create", "update", "delete")},
	{Name: "servers/os-instance-actions", Namespaced: true, Kind: "Server", Verbs: verbs("get")},
	{Name: "servers/os-volume_attachments", Namespaced: true, Kind: "Server", Verbs: verbs("get", "create", "delete")},
	{Name: "servers/os-virtual-interfacesv2", Namespaced: true, Kind: "Server", Verbs: verbs("get", "create", "delete")},
	{Name: "servers/rax-si-image-schedule", Namespaced: true, Kind: "Server", Verbs: verbs("get", "create", "delete")},
	{Name: "flavors", SingularName: "flavor", Namespaced: true, Kind: "Flavor", Verbs: verbs("get")},
	{Name: "flavors/os-extra_specs", Namespaced: true, Kind: "Flavor", Verbs: verbs("get")},
	{Name: "images", SingularName: "image", Namespaced: true, Kind: "Image", Verbs: verbs("get", "delete")},
	{Name: "images/metadata", Namespaced: true, Kind: "Image", Verbs: verbs("get", "create", "update", "delete")},
	{Name: "os-keypairs", SingularName: "os-keypair", Namespaced: true, Kind: "Keypair", Verbs: verbs("get", "create", "delete")},
	{Name: "os-server-groups", SingularName: "os-server-group", Namespaced: true, Kind: "ServerGroup", Verbs: verbs("get", "create", "delete")},
	{Name: "limits", SingularName: "limits", Namespaced: true, Kind: "Limits", Verbs: verbs()},
	{Name: "os-quota-sets", SingularName: "os-quota-set", Namespaced: true, Kind: "QuotaSet", Verbs: verbs("get", "update", "delete")},
	{Name: "os-quota-sets/defaults", Namespaced: true, Kind: "QuotaSet", Verbs: verbs("get")},
	{Name: "os-quota-sets/detail", Namespaced: true, Kind: "QuotaSet", Verbs: verbs("get")},
	{Name: "os-quota-class-sets", SingularName: "os-quota-class-set", Namespaced: true, Kind: "QuotaClassSet", Verbs: verbs("get", "update")},
	{Name: "os-networksv2", SingularName: "os-networkv2", Namespaced: true, Kind: "Network", Verbs: verbs("get", "create", "delete")},
	{Name: "os-security-groups", SingularName: "os-security-group", Namespaced: true, Kind: "SecurityGroup", Verbs: verbs("get", "create", "update", "delete")},
	{Name: "os-security-group-rules", SingularName: "os-security-group-rule", Namespaced: true, Kind: "SecurityGroupRule", Verbs: verbs("create", "delete")},
	{Name: "servers/os-security-groups", Namespaced: true, Kind: "Server", Verbs: verbs("get")},
	{Name: "os-floating-ips", SingularName: "os-floating-ip", Namespaced: true, Kind: "FloatingIP", Verbs: verbs("get", "create", "delete")},
}

func verbs(v ...string) metav1.Verbs { return append(metav1.Verbs{}, v...) }

// installDiscovery serves /apis/nova.kova.dev and /apis/nova.kova.dev/v1 and adds the
// group to /apis (both the legacy and the aggregated form), which is what kube-apiserver
// checks before it marks the APIService Available and what kubectl api-resources reads.
//
// There is no InstallAPIGroup: its REST storage would claim /apis/nova.kova.dev/v1 for
// go-restful and take the Nova paths away from the tenant router.
func installDiscovery(s *genericapiserver.GenericAPIServer) error {
	group := metav1.APIGroup{
		Name:             GroupName,
		Versions:         []metav1.GroupVersionForDiscovery{{GroupVersion: GroupVersion.String(), Version: Version}},
		PreferredVersion: metav1.GroupVersionForDiscovery{GroupVersion: GroupVersion.String(), Version: Version},
	}
	s.DiscoveryGroupManager.AddGroup(group)

	withGV := make([]metav1.APIResource, len(apiResources))
	for i, r := range apiResources {
		r.Group, r.Version = GroupName, Version // the aggregated form names the response kind's group
		withGV[i] = r
	}
	resources, err := endpoints.ConvertGroupVersionIntoToDiscovery(withGV)
	if err != nil {
		return err
	}
	s.AggregatedDiscoveryGroupManager.AddGroupVersion(GroupName, apidiscoveryv2.APIVersionDiscovery{
		Version:   Version,
		Resources: resources,
		Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent,
	})

	groupHandler := discovery.NewAPIGroupHandler(s.Serializer, group)
	versionHandler := discovery.NewAPIVersionHandler(s.Serializer, GroupVersion,
		discovery.APIResourceListerFunc(func() []metav1.APIResource { return apiResources }))
	mux := s.Handler.NonGoRestfulMux
	mux.Handle(groupPath, groupHandler)
	mux.Handle(groupPath+"/", groupHandler)
	mux.Handle(versionPath, versionHandler)
	mux.Handle(versionPath+"/", versionHandler)
	mux.Handle("/openapi/v2", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIv2)
	}))
	return nil
}

// openAPIv2 is an empty OpenAPI document: the Nova paths are not Kubernetes objects, and
// without one kube-apiserver retries (and logs) its download every minute.
var openAPIv2 = []byte(`{"swagger":"2.0","info":{"title":"nova.kova.dev","version":"v1"},"paths":{}}`)
