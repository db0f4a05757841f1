package testenv

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MatrixRow is one API call of Rackspace's permission matrix and the roles that may make it.
type MatrixRow struct {
	Capability, Method, Path string
	Roles                    []string
}

// PermissionMatrix reads shared/permission-matrix.tsv from beside the repository, or, in
// a clone without it, the copy in internal/novaserver/testdata.
func PermissionMatrix() ([]MatrixRow, error) {
	path := filepath.Join(Root(), "..", "shared", "permission-matrix.tsv")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(Root(), "internal", "novaserver", "testdata", "permission-matrix.tsv")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var rows []MatrixRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "section\t") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, fmt.Errorf("%s: want 5 columns: %q", path, line)
		}
		rows = append(rows, MatrixRow{Capability: cols[1], Method: cols[2], Path: cols[3], Roles: strings.Split(cols[4], ",")})
	}
	return rows, sc.Err()
}
