package rules

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestVisibleNamespaces(t *testing.T) {
	tests := []struct {
		tenant, public string
		want           []string
	}{
		{"t1", "kova-public", []string{"t1", "kova-public"}},
		{"kova-public", "kova-public", []string{"kova-public"}},
		{"t1", "", []string{"t1"}},
	}
	for _, tt := range tests {
		if got := VisibleNamespaces(tt.tenant, tt.public); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("VisibleNamespaces(%q, %q) = %v, want %v", tt.tenant, tt.public, got, tt.want)
		}
	}
}

func TestImageAndNetworkVisible(t *testing.T) {
	img := func(ns, vis string) *computev1.Image {
		return &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: computev1.ImageSpec{Visibility: vis}}
	}
	net := func(ns string, shared bool) *computev1.Network {
		return &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: computev1.NetworkSpec{Shared: shared}}
	}
	imgs := []struct {
		img  *computev1.Image
		want bool
	}{
		{img("t1", "private"), true},
		{img("t1", ""), true},
		{img("kova-public", "public"), true},
		{img("kova-public", "private"), false},
		{img("t2", "private"), false},
		{img("t2", "shared"), false},
		{img("t2", "public"), true},
	}
	for _, tt := range imgs {
		if got := ImageVisible(tt.img, "t1"); got != tt.want {
			t.Errorf("ImageVisible(%s/%s) = %v", tt.img.Namespace, tt.img.Spec.Visibility, got)
		}
	}
	nets := []struct {
		net  *computev1.Network
		want bool
	}{
		{net("t1", false), true},
		{net("kova-public", true), true},
		{net("kova-public", false), false},
		{net("t2", false), false},
	}
	for _, tt := range nets {
		if got := NetworkVisible(tt.net, "t1"); got != tt.want {
			t.Errorf("NetworkVisible(%s, shared %v) = %v", tt.net.Namespace, tt.net.Spec.Shared, got)
		}
	}
}

func TestFitsImage(t *testing.T) {
	flavor := &computev1.Flavor{Spec: computev1.FlavorSpec{RAM: 512, Disk: 1}}
	diskless := &computev1.Flavor{Spec: computev1.FlavorSpec{RAM: 512}}
	tests := []struct {
		f       *computev1.Flavor
		minRAM  int64
		minDisk int64
		want    string
	}{
		{flavor, 0, 0, ""},
		{flavor, 512, 1, ""},
		{flavor, 1024, 0, "Flavor's memory is too small for requested image."},
		{flavor, 0, 2, "Flavor's disk is smaller than the minimum size specified in image metadata. " +
			"Flavor disk is 1073741824 bytes, minimum size is 2147483648 bytes."},
		{diskless, 0, 20, ""},
	}
	for _, tt := range tests {
		img := &computev1.Image{Spec: computev1.ImageSpec{MinRAM: tt.minRAM, MinDisk: tt.minDisk}}
		err := FitsImage(tt.f, img)
		got := ""
		if err != nil {
			got = err.Error()
			if _, ok := err.(*InvalidError); !ok {
				t.Errorf("error %T, want *InvalidError", err)
			}
		}
		if got != tt.want {
			t.Errorf("FitsImage(ram %d disk %d; min %d, %d) = %q, want %q", tt.f.Spec.RAM, tt.f.Spec.Disk, tt.minRAM, tt.minDisk, got, tt.want)
		}
	}
}
