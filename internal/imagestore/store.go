// Package imagestore keeps the data of images uploaded through the image API: one file per
// image, named by the image's uid, in one directory (a PersistentVolumeClaim when deployed,
// shared by every nova-api replica, so whichever replica took an upload, any replica serves
// the download).
//
// An upload is written to a temporary file in the same directory, hashed on the way (MD5
// for Glance's checksum, SHA-512 for os_hash_value), synced, and renamed into place: a file
// under an image's name is always whole, and a failed upload leaves no file behind.
package imagestore

import (
	"crypto/md5" //nolint:gosec // Glance's checksum is MD5: a name for the data, not a defence
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// HashAlgo is the os_hash_algo of every image Kova stores: Glance's default.
const HashAlgo = "sha512"

// ErrTooLarge is an upload past the store's size bound.
var ErrTooLarge = errors.New("image data exceeds the image size limit")

// tempPrefix marks uploads in flight.
const tempPrefix = ".upload-"

// Store is a directory of image data.
type Store struct {
	dir     string
	maxSize int64
}

// Info is what an upload stored.
type Info struct {
	Size     int64
	Checksum string // MD5, hex
	Hash     string // SHA-512, hex
}

// New opens (and makes) the store at dir; maxSize bounds one image's data.
func New(dir string, maxSize int64) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	return &Store{dir: dir, maxSize: maxSize}, nil
}

// MaxSize is the bound on one image's data.
func (s *Store) MaxSize() int64 { return s.maxSize }

var validID = regexp.MustCompile(`^[0-9a-f-]{36}$`)

func (s *Store) path(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("image store: %q is not an image id", id)
	}
	return filepath.Join(s.dir, id), nil
}

// Put stores r as the data of image id, replacing nothing: the caller has made sure the
// image has no data yet. On any error nothing is left behind.
func (s *Store) Put(id string, r io.Reader) (Info, error) {
	final, err := s.path(id)
	if err != nil {
		return Info{}, err
	}
	tmp, err := os.CreateTemp(s.dir, tempPrefix+id+"-")
	if err != nil {
		return Info{}, fmt.Errorf("image store: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	sum, hash := md5.New(), sha512.New() //nolint:gosec // see the import
	// One byte past the bound tells an upload that is too large from one that fits exactly.
	n, err := io.Copy(io.MultiWriter(tmp, sum, hash), io.LimitReader(r, s.maxSize+1))
	if err != nil {
		return Info{}, err
	}
	if n > s.maxSize {
		return Info{}, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("image store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("image store: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Info{}, fmt.Errorf("image store: %w", err)
	}
	done = true
	return Info{Size: n, Checksum: hex.EncodeToString(sum.Sum(nil)), Hash: hex.EncodeToString(hash.Sum(nil))}, nil
}

// Open opens image id's data; os.ErrNotExist when it has none.
func (s *Store) Open(id string) (*os.File, error) {
	p, err := s.path(id)
	if err != nil {
		return nil, os.ErrNotExist
	}
	return os.Open(p) //nolint:gosec // the name is an image id, checked above
}

// Delete removes image id's data, if any.
func (s *Store) Delete(id string) error {
	p, err := s.path(id)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("image store: %w", err)
	}
	return nil
}

// Sweep removes the data of images that are gone (known says which ids exist) and uploads
// abandoned by a replica that died, both only once older than minAge, so that an upload in
// flight, or an image this replica has not heard of yet, is never touched. It returns the
// ids it removed.
func (s *Store) Sweep(known func(id string) bool, minAge time.Duration, now time.Time) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	var removed []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || now.Sub(info.ModTime()) < minAge {
			continue
		}
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
		case validID.MatchString(name) && !known(name):
		default:
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err == nil {
			removed = append(removed, name)
		}
	}
	return removed, nil
}
