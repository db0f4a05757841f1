package novaapi

import "testing"

func TestBookmarkRoot(t *testing.T) {
	tests := map[string]string{
		"http://127.0.0.1:8774/v2.1":                                           "http://127.0.0.1:8774",
		"http://127.0.0.1:8774/v2.1/demo":                                      "http://127.0.0.1:8774/demo",
		"https://cloud.example/compute/v2.1/demo":                              "https://cloud.example/compute/demo",
		"https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo":         "https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo",
		"https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo/../demo": "https://127.0.0.1:6443/apis/nova.kova.dev/v1/namespaces/demo/../demo",
	}
	for in, want := range tests {
		if got := bookmarkRoot(in); got != want {
			t.Errorf("bookmarkRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGeneratedPasswords(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw := generatePassword()
		if len(pw) != 12 || seen[pw] {
			t.Fatalf("password %q", pw)
		}
		seen[pw] = true
	}
}
