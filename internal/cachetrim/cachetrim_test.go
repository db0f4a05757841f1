package cachetrim

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestTransformDropsWhatNobodyReads(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{
		Name:          "a",
		Annotations:   map[string]string{LastAppliedAnnotation: `{"big":"manifest"}`, "keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	out, err := Transform()(srv)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*computev1.Server)
	if got.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", got.ManagedFields)
	}
	if _, ok := got.Annotations[LastAppliedAnnotation]; ok {
		t.Errorf("last-applied annotation kept")
	}
	if got.Annotations["keep"] != "me" || got.Name != "a" {
		t.Errorf("other metadata lost: %+v", got.ObjectMeta)
	}
}

func TestTransformLeavesNonObjectsAlone(t *testing.T) {
	tomb := toolscache.DeletedFinalStateUnknown{Key: "ns/a"}
	out, err := Transform()(tomb)
	if err != nil || out != any(tomb) {
		t.Fatalf("got %v, %v", out, err)
	}
}
