package cachetrim

import (
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/json"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// decodedServer is server i as an informer has it: decoded from JSON, so every string and
// map is its own copy.
func decodedServer(t testing.TB, i int) *computev1.Server {
	t.Helper()
	now := metav1.NewTime(time.Date(2026, 12, 1, 12, 10, 27, 0, time.UTC))
	desc := "a server"
	src := &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "perf", Name: fmt.Sprintf("perf-%d", i), UID: types.UID(fmt.Sprintf("003e491b-4dba-4288-80ee-%012d", i)),
			ResourceVersion: fmt.Sprint(3786 + i), Generation: 1, CreationTimestamp: now,
			Labels: map[string]string{
				computev1.LabelCreated1s: "1796127027", computev1.LabelCreated1e3s: "1796127000",
				computev1.LabelCreated1e5s: "1796100000", computev1.LabelCreated1e7s: "1790000000",
			},
			Annotations:     map[string]string{computev1.AnnotationUserID: "admin"},
			Finalizers:      []string{"compute.kova.dev/finalizer"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "compute.kova.dev/v1alpha1", Kind: "ServerGroup", Name: "g", UID: "g-uid"}},
		},
		Spec: computev1.ServerSpec{
			FlavorRef: "m1.tiny", ImageRef: "cirros-0.6.2", PowerState: computev1.PowerActive,
			Networks: []computev1.NetworkAttachment{{Name: "private"}}, SecurityGroups: []string{"default"},
			Metadata: map[string]string{"role": "web"}, Description: &desc, Tags: []string{"a", "b"},
		},
		Status: computev1.ServerStatus{
			ObservedGeneration: 1, Status: "ACTIVE", VMState: "active", PowerState: 1, Power: "Running", Progress: 100,
			Flavor: "m1.tiny", Image: "cirros-0.6.2", ImageUID: "f99b1da0-1266-4f56-9076-bc0845d9c81b", Host: "h2",
			HostID:    "d57e9f059d1dac9da1f4e86a819e2e8cce181d67d5bc291a4312dada",
			Addresses: []computev1.ServerAddress{{Network: "private", Address: fmt.Sprintf("10.8.0.%d", i%250), Version: 4, Type: "fixed", NetworkNamespace: "perf", NetworkName: "private"}},
			Conditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Active", Message: "The server is ACTIVE as its spec asks.", LastTransitionTime: now, ObservedGeneration: 1},
				{Type: "Progressing", Status: metav1.ConditionFalse, Reason: "Idle", Message: "No task is running.", LastTransitionTime: now, ObservedGeneration: 1},
			},
			Applied:    &computev1.ServerApplied{FlavorRef: "m1.tiny", ImageRef: "cirros-0.6.2", PowerState: computev1.PowerActive},
			LaunchedAt: &now, Updated: &now,
		},
	}
	b, err := stdjson.Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	out := &computev1.Server{}
	if err := json.UnmarshalCaseSensitivePreserveInts(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameString(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestInternKeepsEveryValue(t *testing.T) {
	tr := TransformInterned()
	for i := range 3 {
		srv := decodedServer(t, i)
		want := srv.DeepCopy()
		if _, err := tr(srv); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(srv, want) {
			t.Fatalf("server %d changed: got %+v, want %+v", i, srv, want)
		}
	}
	// Bytes are not text: a Secret's data keeps its own storage and values.
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kova-system", Name: "s"},
		Data: map[string][]byte{"password": []byte("hunter2")}, StringData: map[string]string{"k": "v"}}
	want := sec.DeepCopy()
	if _, err := tr(sec); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(sec, want) {
		t.Fatalf("secret changed: %+v", sec)
	}
}

func TestInternSharesWhatServersHaveInCommon(t *testing.T) {
	tr := TransformInterned()
	a, b := decodedServer(t, 1), decodedServer(t, 2)
	if sameString(a.Namespace, b.Namespace) || sameMap(a.Labels, b.Labels) {
		t.Fatal("decoded servers already share storage: the test proves nothing")
	}
	for _, s := range []*computev1.Server{a, b} {
		if _, err := tr(s); err != nil {
			t.Fatal(err)
		}
	}
	for name, pair := range map[string][2]string{
		"namespace":        {a.Namespace, b.Namespace},
		"finalizer":        {a.Finalizers[0], b.Finalizers[0]},
		"owner kind":       {a.OwnerReferences[0].Kind, b.OwnerReferences[0].Kind},
		"flavorRef":        {a.Spec.FlavorRef, b.Spec.FlavorRef},
		"powerState":       {string(a.Spec.PowerState), string(b.Spec.PowerState)},
		"network name":     {a.Spec.Networks[0].Name, b.Spec.Networks[0].Name},
		"security group":   {a.Spec.SecurityGroups[0], b.Spec.SecurityGroups[0]},
		"condition reason": {a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason},
		"condition text":   {a.Status.Conditions[1].Message, b.Status.Conditions[1].Message},
		"host id":          {a.Status.HostID, b.Status.HostID},
		"applied image":    {a.Status.Applied.ImageRef, b.Status.Applied.ImageRef},
		"address network":  {a.Status.Addresses[0].NetworkNamespace, b.Status.Addresses[0].NetworkNamespace},
	} {
		if !sameString(pair[0], pair[1]) {
			t.Errorf("%s %q is not shared", name, pair[0])
		}
	}
	for name, pair := range map[string][2]map[string]string{
		"labels": {a.Labels, b.Labels}, "annotations": {a.Annotations, b.Annotations}, "metadata": {a.Spec.Metadata, b.Spec.Metadata},
	} {
		if !sameMap(pair[0], pair[1]) {
			t.Errorf("%s are not shared", name)
		}
	}
	// What is each server's own stays its own.
	if a.Name == b.Name || a.UID == b.UID || a.Status.Addresses[0].Address == b.Status.Addresses[0].Address {
		t.Fatalf("distinct values merged: %s %s", a.Name, b.Name)
	}
}

func TestInternedMapsAreNotChangedThroughACopy(t *testing.T) {
	tr := TransformInterned()
	a, b := decodedServer(t, 1), decodedServer(t, 2)
	for _, s := range []*computev1.Server{a, b} {
		if _, err := tr(s); err != nil {
			t.Fatal(err)
		}
	}
	// What the cache's readers get is a deep copy: a change to it reaches no other server.
	c := a.DeepCopy()
	c.Labels["x"] = "y"
	c.Annotations[computev1.AnnotationUserID] = "someone"
	if _, ok := b.Labels["x"]; ok || b.Annotations[computev1.AnnotationUserID] != "admin" {
		t.Fatalf("a copy's change reached another cached server: %v %v", b.Labels, b.Annotations)
	}
}

func TestInternMapsOfDifferentContentStayApart(t *testing.T) {
	in := newInterner()
	// Written one after the other without lengths, these two would read the same.
	m1 := in.stringMap(map[string]string{"a": "b", "c": "d"})
	m2 := in.stringMap(map[string]string{"a": "b\x00c\x00d"})
	m3 := in.stringMap(map[string]string{"a": "b", "c": "d"})
	if sameMap(m1, m2) || len(m2) != 1 || m2["a"] != "b\x00c\x00d" {
		t.Fatalf("maps of different content merged: %q %q", m1, m2)
	}
	if !sameMap(m1, m3) {
		t.Fatal("maps of the same content not shared")
	}
}

func TestInternIsBounded(t *testing.T) {
	in := newInterner()
	for i := range 3 * maxStrings {
		in.str(fmt.Sprintf("unique-%d", i))
		in.stringMap(map[string]string{"k": fmt.Sprint(i)})
	}
	if len(in.strs) > maxStrings || len(in.maps) > maxMaps {
		t.Fatalf("tables grew past their bounds: %d strings, %d maps", len(in.strs), len(in.maps))
	}
	long := string(make([]byte, maxInternedLen+1))
	in.str(long)
	if _, ok := in.strs[long]; ok {
		t.Fatal("a long string was kept")
	}
	big := map[string]string{}
	for i := range maxMapEntries + 1 {
		big[fmt.Sprint(i)] = "v"
	}
	if got := in.stringMap(big); !sameMap(got, big) {
		t.Fatal("a big map was copied")
	}
	// Sharing still works after the tables were emptied.
	x, y := in.str(string([]byte("again"))), in.str(string([]byte("again")))
	if !sameString(x, y) {
		t.Fatal("no sharing after the tables were emptied")
	}
}

// Informers of different kinds run the one transform of a cache from their own goroutines.
func TestInternConcurrently(t *testing.T) {
	tr := TransformInterned()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				srv := decodedServer(t, g*1000+i)
				want := srv.DeepCopy()
				if _, err := tr(srv); err != nil {
					t.Error(err)
					return
				}
				if !equality.Semantic.DeepEqual(srv, want) {
					t.Errorf("server %d changed", i)
					return
				}
			}
		})
	}
	wg.Wait()
}
