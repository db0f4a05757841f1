package novaapi

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/kova-dev/kova/internal/testenv/alloc"
)

// TestMarshalKeepsItsBufferThroughCollections: a body the size of a page of 1,000 servers,
// marshalled again after collections (a walk of a large list collects more often than once
// a page), costs the body it returns and little more: the compact encoding's buffer is
// kept, not grown again from nothing, which costs about twice the body again.
func TestMarshalKeepsItsBufferThroughCollections(t *testing.T) {
	type server struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	servers := make([]any, 8000) // as a page's body has them (renderServers)
	for i := range servers {
		servers[i] = &server{ID: strings.Repeat("a", 36), Name: "web <&>", Status: "ACTIVE"}
	}
	body := map[string]any{"servers": servers, "servers_links": []map[string]string{{"rel": "next", "href": "https://x/servers?marker=a&limit=8000"}}}
	first := marshal(body)
	var again []byte
	allocated := alloc.By(func() {
		runtime.GC()
		runtime.GC()
		again = marshal(body)
	})
	if string(again) != string(first) {
		t.Fatal("the same body marshalled twice differs")
	}
	whole, err := json.Marshal(body) // with encoding/json's separators and HTML escapes
	if err != nil {
		t.Fatal(err)
	}
	unescaped := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(whole))
	if want := string(pythonSeparators([]byte(unescaped))); string(again) != want {
		t.Errorf("marshal wrote %.200s…, encoding/json %.200s…", again, want)
	}
	var back map[string]any
	if err := json.Unmarshal(again, &back); err != nil {
		t.Fatal(err)
	}
	if limit := uint64(len(again)) * 3 / 2; allocated > limit {
		t.Errorf("marshalling a body of %d KiB allocated %d KiB, want at most %d KiB", len(again)>>10, allocated>>10, limit>>10)
	}
}
