package localcp_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestLocalcp(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "localcp suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(GinkgoWriter, nil)))
})

// binDir is where the control-plane binaries are: $KOVA_BIN_DIR, or bin/ at
// the module root (found by walking up from the working directory to go.mod).
func binDir() string {
	if dir := os.Getenv("KOVA_BIN_DIR"); dir != "" {
		return dir
	}
	root, err := moduleRoot()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(root, "bin")
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
