package imagestore

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const id = "6b7f11d6-fabc-441f-82f1-8247fa91879b"

func TestPutOpenDelete(t *testing.T) {
	s, err := New(t.TempDir(), 16)
	if err != nil {
		t.Fatal(err)
	}
	// Glance's answer for "hello\n" (the peer at :9292).
	info, err := s.Put(id, strings.NewReader("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 6 || info.Checksum != "b1946ac92492d2347c6235b4d2611184" ||
		info.Hash != "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629" {
		t.Errorf("info %+v", info)
	}
	f, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	_ = f.Close()
	if string(data) != "hello\n" {
		t.Errorf("data %q", data)
	}
	if err := s.Delete(id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(id); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open after delete: %v", err)
	}
}

func TestFailedUploadsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(dir, 4)
	if _, err := s.Put(id, strings.NewReader("12345")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("5 bytes past a bound of 4: %v", err)
	}
	if _, err := s.Put(id, io.MultiReader(strings.NewReader("12"), failing{})); err == nil {
		t.Error("a broken body stored")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	if _, err := s.Put(id, bytes.NewReader([]byte("1234"))); err != nil {
		t.Errorf("exactly the bound: %v", err)
	}
	if _, err := s.Put("../etc", strings.NewReader("x")); err == nil {
		t.Error("a path for an id")
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(dir, 16)
	gone, kept := "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	for _, n := range []string{gone, kept} {
		if _, err := s.Put(n, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"abandoned"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	known := func(n string) bool { return n == kept }
	if removed, _ := s.Sweep(known, time.Minute, time.Now()); len(removed) != 0 {
		t.Errorf("young files removed: %v", removed)
	}
	removed, err := s.Sweep(known, time.Minute, time.Now().Add(2*time.Minute))
	if err != nil || len(removed) != 2 {
		t.Errorf("removed %v, %v", removed, err)
	}
	if _, err := s.Open(kept); err != nil {
		t.Errorf("a known image's data: %v", err)
	}
}
