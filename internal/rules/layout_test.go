package rules

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The rules have one home only if nothing reaches past it: these tests read the imports of
// the module's packages from their source (go/build, no network) and check the layout.

const module = "github.com/kova-dev/kova"

// repoRoot is the module's root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// deps are the packages pkg depends on (not its tests), the module's own followed through
// their source and the others listed as imported.
func deps(t *testing.T, root, pkg string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		if p != module && !strings.HasPrefix(p, module+"/") {
			return
		}
		bp, err := build.ImportDir(filepath.Join(root, strings.TrimPrefix(strings.TrimPrefix(p, module), "/")), 0)
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			walk(imp)
		}
	}
	walk(pkg)
	delete(seen, pkg)
	return seen
}

func TestRulesArePure(t *testing.T) {
	for dep := range deps(t, repoRoot(t), module+"/internal/rules") {
		switch {
		case strings.HasPrefix(dep, module+"/") && dep != module+"/api/v1alpha1" && dep != module+"/internal/lifecycle":
			t.Errorf("rules imports %s: it may import only the API types and the lifecycle of the module", dep)
		case strings.HasPrefix(dep, "k8s.io/client-go"), strings.HasPrefix(dep, "sigs.k8s.io/controller-runtime/pkg/client"):
			t.Errorf("rules imports %s: no Kubernetes client in the rules", dep)
		}
	}
}

func TestNovaAPIDependsOnNoController(t *testing.T) {
	got := deps(t, repoRoot(t), module+"/cmd/nova-api")
	for _, p := range []string{"controllers", "internal/compute", "internal/ipam", "internal/webhook"} {
		if got[module+"/"+p] {
			t.Errorf("cmd/nova-api depends on %s", p)
		}
	}
}

// TestOnlyTheManagerImportsControllers: the controllers are the manager's; the suites'
// wiring (internal/testenv) starts them too. Everyone else asks the rules.
func TestOnlyTheManagerImportsControllers(t *testing.T) {
	root := repoRoot(t)
	allowed := []string{"cmd/manager", "internal/testenv"}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "hack" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(path, 0)
		var none *build.NoGoError
		if errors.As(err, &none) {
			return nil
		}
		if err != nil {
			return err
		}
		if slices.Contains(bp.Imports, module+"/controllers") && !slices.Contains(allowed, filepath.ToSlash(rel)) {
			t.Errorf("%s imports controllers", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
