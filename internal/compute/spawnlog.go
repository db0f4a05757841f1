package compute

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// SpawnLogEntry is one line of the spawn log (SimulatedConfig.SpawnLog): a spawn operation
// that began, by which process. A spawn asked again with the same token is the same
// operation and is not logged again; a second line for one instance is a second spawn.
type SpawnLogEntry struct {
	ID    string    `json:"id"`
	Token string    `json:"token"`
	Host  string    `json:"host,omitempty"`
	At    time.Time `json:"at"`
	PID   int       `json:"pid"`
}

// logSpawn appends e to the spawn log, if there is one. The file is opened for each line
// with O_APPEND, so the lines of two processes sharing it interleave whole and none
// overwrites another.
func (s *Simulated) logSpawn(e SpawnLogEntry) error {
	if s.spawnLog == "" {
		return nil
	}
	e.PID = os.Getpid()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(s.spawnLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("compute: spawn log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("compute: spawn log: %w", err)
	}
	return nil
}

// ReadSpawnLog reads a spawn log; a missing file is an empty log.
func ReadSpawnLog(path string) ([]SpawnLogEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []SpawnLogEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e SpawnLogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("compute: spawn log %s line %d: %w", path, len(out)+1, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
