package localcp_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/localcp"
)

// output is where the test programs write: not a file, as the prefixed terminal output of
// cmd/localcp is not, so the program's output goes through a pipe its own children hold too.
func output() (*gbytes.Buffer, func() string) {
	b := gbytes.NewBuffer()
	return b, func() string { return string(b.Contents()) }
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

var _ = Describe("Supervisor", func() {
	It("starts a program that was killed with SIGKILL again, with the same arguments", func(ctx SpecContext) {
		out, contents := output()
		p, err := localcp.StartProcess("sleeper", "/bin/sh", []string{"-c", "echo started; exec sleep 1000"}, out, out, nil)
		Expect(err).NotTo(HaveOccurred())
		s := localcp.Supervise(p, log.Log)
		DeferCleanup(func() { Expect(s.Stop(5 * time.Second)).To(Succeed()) })
		Eventually(contents).Should(Equal("started\n"))

		first := p.Pid()
		Expect(syscall.Kill(first, syscall.SIGKILL)).To(Succeed())
		Eventually(func() int { return s.Current().Pid() }).WithTimeout(10*time.Second).ShouldNot(Equal(first), "started again after the first back-off (1s)")
		Expect(s.Restarts()).To(Equal(1))
		Expect(alive(s.Current().Pid())).To(BeTrue())
		Eventually(contents).Should(Equal("started\nstarted\n"), "the same arguments")

		second := s.Current().Pid()
		Expect(s.Stop(5 * time.Second)).To(Succeed())
		Expect(alive(second)).To(BeFalse())
		Consistently(s.Restarts).WithTimeout(2*time.Second).Should(Equal(1), "a stopped program is not started again")
	}, SpecTimeout(time.Minute))

	It("gives a program started with an environment that environment, and again after a restart", func(ctx SpecContext) {
		out, contents := output()
		p, err := localcp.StartProcessWithEnv("env", "/bin/sh", []string{"-c", `echo "GOGC=$GOGC"; exec sleep 1000`},
			[]string{"GOGC=50"}, out, out, nil)
		Expect(err).NotTo(HaveOccurred())
		s := localcp.Supervise(p, log.Log)
		DeferCleanup(func() { Expect(s.Stop(5 * time.Second)).To(Succeed()) })
		Eventually(contents).Should(Equal("GOGC=50\n"))
		Expect(syscall.Kill(p.Pid(), syscall.SIGKILL)).To(Succeed())
		Eventually(contents).WithTimeout(10 * time.Second).Should(Equal("GOGC=50\nGOGC=50\n"))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("Process.Stop", func() {
	It("kills, within its deadline, a program that ignores SIGTERM and whose children hold its output", func(ctx SpecContext) {
		out, contents := output()
		// The shell and the sleep it starts ignore SIGTERM; the sleep keeps the output pipe open.
		p, err := localcp.StartProcess("stubborn", "/bin/sh",
			[]string{"-c", `trap "" TERM; sleep 1000 & echo "child $!"; wait`}, out, out, nil)
		Expect(err).NotTo(HaveOccurred())
		Eventually(contents).Should(HavePrefix("child "))
		child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(contents(), "child ")))
		Expect(err).NotTo(HaveOccurred())

		start := time.Now()
		err = p.Stop(time.Second)
		Expect(err).To(MatchError(ContainSubstring("did not stop within 1s and was killed")))
		Expect(time.Since(start)).To(BeNumerically("<", 8*time.Second))
		Expect(p.Done()).To(BeClosed())
		Eventually(func() bool { return alive(child) }).WithTimeout(5*time.Second).Should(BeFalse(), "the child it started is killed with it")
	}, SpecTimeout(30*time.Second))
})
