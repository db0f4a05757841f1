package compute

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Persistence: one JSON file per instance in the state directory, written
// atomically (temp file + rename, no fsync) on every change.
//
// Changes are made and serialized under s.mu, each stamped with a version
// from s.seq; the file I/O happens after s.mu is released. Writes and
// removals for one id are serialized by that id's fileSlot, which also
// remembers the newest version on disk so that a late, older write never
// overwrites a newer one (or resurrects a destroyed instance).

const (
	stateSuffix = ".json"
	tempPrefix  = ".tmp-"
)

type fileSlot struct {
	mu      sync.Mutex
	written uint64 // newest version on disk; guarded by mu
	refs    int    // pending writes holding the slot; guarded by Simulated.mu
}

type pendingWrite struct {
	id   string
	ver  uint64
	data []byte // nil: remove the file
	slot *fileSlot
	e    *entry // nil for removals
}

// schedule records a change of instance id (e == nil: removal) and returns ws
// with the write to perform once s.mu is released. Called with s.mu held.
func (s *Simulated) schedule(ws []pendingWrite, id string, e *entry) []pendingWrite {
	if s.dir == "" {
		return ws
	}
	s.seq++
	w := pendingWrite{id: id, ver: s.seq, e: e}
	if e != nil {
		e.ver = s.seq
		data, err := json.MarshalIndent(&e.rec, "", "  ")
		if err != nil {
			// Cannot happen for these types; keep the old file and let the
			// next change try again.
			return ws
		}
		w.data = append(data, '\n')
	}
	slot := s.slots[id]
	if slot == nil {
		slot = &fileSlot{}
		s.slots[id] = slot
	}
	slot.refs++
	w.slot = slot
	return append(ws, w)
}

// flush performs scheduled writes. Called without s.mu.
func (s *Simulated) flush(ws []pendingWrite) error {
	var errs []error
	for _, w := range ws {
		var err error
		w.slot.mu.Lock()
		if w.ver > w.slot.written {
			if w.data == nil {
				err = removeState(s.dir, w.id)
			} else {
				err = writeState(s.dir, w.id, w.data)
			}
			if err == nil {
				w.slot.written = w.ver
			}
		}
		w.slot.mu.Unlock()

		s.mu.Lock()
		if w.slot.refs--; w.slot.refs == 0 && s.slots[w.id] == w.slot {
			delete(s.slots, w.id)
		}
		if err == nil && w.e != nil && w.e.saved < w.ver {
			w.e.saved = w.ver
		}
		s.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stateFile returns the file name for instance id: the id itself when it is
// a plain name (Kubernetes UIDs are), else a hash of it.
func stateFile(id string) string {
	plain := len(id) <= 200 && !strings.HasPrefix(id, "x-") && !strings.HasPrefix(id, ".")
	for _, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && c != '-' && c != '_' && c != '.' {
			plain = false
			break
		}
	}
	if plain && id != "" {
		return id + stateSuffix
	}
	sum := sha256.Sum256([]byte(id))
	return "x-" + hex.EncodeToString(sum[:]) + stateSuffix
}

func writeState(dir, id string, data []byte) error {
	name := stateFile(id)
	f, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("compute: persisting instance %s: %w", id, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compute: persisting instance %s: %w", id, err)
	}
	return nil
}

func removeState(dir, id string) error {
	err := os.Remove(filepath.Join(dir, stateFile(id)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("compute: removing state of instance %s: %w", id, err)
	}
	return nil
}

// loadState reads every instance file in dir (creating dir if missing) and
// removes temp files left by an interrupted write.
func loadState(dir string) ([]record, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("compute: state dir: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("compute: state dir: %w", err)
	}
	var recs []record
	seen := map[string]string{}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tempPrefix) {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if de.IsDir() || !strings.HasSuffix(name, stateSuffix) {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("compute: loading state: %w", err)
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("compute: loading state file %s: %w", path, err)
		}
		if err := checkRecord(&r); err != nil {
			return nil, fmt.Errorf("compute: loading state file %s: %w", path, err)
		}
		if want := stateFile(r.ID); want != name {
			return nil, fmt.Errorf("compute: loading state file %s: it holds instance %q, whose file is %s", path, r.ID, want)
		}
		if other, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("compute: loading state: instance %q is in both %s and %s", r.ID, other, name)
		}
		seen[r.ID] = name
		recs = append(recs, r)
	}
	return recs, nil
}

func checkRecord(r *record) error {
	if r.Schema != schemaVersion {
		return fmt.Errorf("unsupported schema version %d (want %d)", r.Schema, schemaVersion)
	}
	if r.ID == "" {
		return errors.New("no instance id")
	}
	if r.OldFlavor != nil && r.OldHost == "" {
		return errors.New("old flavor without old host")
	}
	if op := r.Op; op != nil {
		if !op.Kind.Valid() {
			return fmt.Errorf("unknown operation kind %q", op.Kind)
		}
		if op.Steps < 1 || op.Step < 0 || op.Step > op.Steps || op.FailStep < 0 || op.FailStep > op.Steps || op.StepLatency < 0 {
			return fmt.Errorf("inconsistent operation %+v", *op)
		}
		if op.Done && op.Failed {
			return errors.New("operation both done and failed")
		}
	}
	return nil
}
