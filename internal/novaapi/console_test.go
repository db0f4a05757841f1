package novaapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kova-dev/kova/internal/lifecycle"
)

func consoleOutput(t *testing.T, e *env, body string) string {
	t.Helper()
	return e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-getConsoleOutput": `+body+`}`).expect(200).object()["output"].(string)
}

func TestConsoleOutput(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	all := consoleOutput(t, e, `{}`)
	lines := strings.Split(all, "\n")
	if len(lines) <= 3 || !strings.Contains(all, "host-a") || !strings.HasSuffix(all, "peer-srv-a login: ") {
		t.Fatalf("whole console %q", all)
	}
	for body, want := range map[string]string{
		`{"length": 3}`:    strings.Join(lines[len(lines)-3:], "\n"),
		`{"length": "2"}`:  strings.Join(lines[len(lines)-2:], "\n"),
		`{"length": 0}`:    "",
		`{"length": -1}`:   all,
		`{"length": null}`: all,
		`{"length": 1000}`: all,
	} {
		if got := consoleOutput(t, e, body); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	if again := consoleOutput(t, e, `{}`); again != all {
		t.Errorf("the console changed between reads: %q", again)
	}
}

func TestConsoleOutputOfStoppedAndUnplacedServers(t *testing.T) {
	stopped := inState(server("srv-a", srvUID, base), lifecycle.VMStopped, "", lifecycle.PowerShutdown)
	e := newEnv(t, standard(stopped)...)
	if out := consoleOutput(t, e, `{"length": 3}`); len(strings.Split(out, "\n")) != 3 || !strings.Contains(out, "Power down") {
		t.Errorf("stopped server's console %q", out)
	}
	unplaced := server("srv-a", srvUID, base)
	unplaced.Status.Host = ""
	e = newEnv(t, standard(unplaced)...)
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-getConsoleOutput": {}}`).expectFault(409, "conflictingRequest",
		"Instance "+srvUID+" is not ready")
}
