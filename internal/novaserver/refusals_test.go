package novaserver_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

var _ = Describe("Refusals on the direct listener", func() {
	var (
		ns     string
		tokens map[string]string
	)
	BeforeEach(func(ctx SpecContext) { ns, tokens = readyTenant(ctx) })

	// http2Client speaks HTTP/2 only, on a connection of its own.
	http2Client := func() *http.Client {
		base := tlsClient.Transport.(*http.Transport)
		t := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: base.TLSClientConfig.RootCAs, NextProtos: []string{"h2"}},
			ForceAttemptHTTP2: true,
		}
		DeferCleanup(t.CloseIdleConnections)
		return &http.Client{Transport: t, Timeout: 30 * time.Second}
	}

	It("carry their whole body over HTTP/2 and HTTP/1.1, after a request body the server did not read", func() {
		// A create's body, larger than a TCP segment, as a client sends it.
		body := []byte(`{"server": {"name": "web", "flavorRef": "1", "imageRef": "x", "metadata": {"k": "` + strings.Repeat("v", 200_000) + `"}}}`)
		for _, c := range []struct {
			name   string
			header map[string]string
			code   int
			key    string
		}{
			{"no credentials", nil, http.StatusUnauthorized, "unauthorized"},
			{"a bad token", map[string]string{"X-Auth-Token": "not-a-token"}, http.StatusUnauthorized, "unauthorized"},
			{"a role that may not", token(tokens["observer"]), http.StatusForbidden, "forbidden"},
		} {
			for _, proto := range []string{"HTTP/2.0", "HTTP/1.1"} {
				By(c.name + " over " + proto)
				client := tlsClient
				if proto == "HTTP/2.0" {
					client = http2Client()
				}
				for range 20 {
					req, err := http.NewRequest(http.MethodPost, directURL+"/v2.1/"+ns+"/servers", bytes.NewReader(body))
					Expect(err).NotTo(HaveOccurred())
					req.Header.Set("Content-Type", "application/json")
					for k, v := range c.header {
						req.Header.Set(k, v)
					}
					resp, err := client.Do(req)
					Expect(err).NotTo(HaveOccurred())
					got, err := io.ReadAll(resp.Body)
					_ = resp.Body.Close()
					Expect(err).NotTo(HaveOccurred(), "the body is cut short after %q", got)
					Expect(resp.Proto).To(Equal(proto))
					Expect(resp.StatusCode).To(Equal(c.code), "body: %s", got)
					if resp.ContentLength >= 0 {
						Expect(got).To(HaveLen(int(resp.ContentLength)))
					}
					expectFault(got, c.key, c.code)
				}
			}
		}

		By("over HTTP/2, to a client that reads the answer once it has sent its whole body, slowly")
		for _, c := range []struct {
			header map[string]string
			code   int
			key    string
		}{
			{nil, http.StatusUnauthorized, "unauthorized"},
			{token(tokens["observer"]), http.StatusForbidden, "forbidden"},
		} {
			for range 3 {
				code, got, err := slowHTTP2Post(directURL+"/v2.1/"+ns+"/servers", c.header, body)
				Expect(err).NotTo(HaveOccurred())
				Expect(code).To(Equal(c.code), "body: %s", got)
				expectFault(got, c.key, c.code)
			}
		}
	})
})

var _ = Describe("A refused impersonation on the direct listener", func() {
	It("says the impersonation was refused, not the path", func(ctx SpecContext) {
		ns, tokens := readyTenant(ctx)
		path := directURL + "/v2.1/" + ns + "/servers"

		header := map[string]string{"X-Auth-Token": tokens["admin"], "Impersonate-User": "someone-else"}
		r, err := do(tlsClient, http.MethodGet, path, header, nil)
		Expect(err).NotTo(HaveOccurred())
		expectNovaError(r, http.StatusForbidden, "forbidden", Equal("Policy doesn't allow users:impersonate to be performed."))

		By("a path the caller may not use still names the path")
		r, err = do(tlsClient, http.MethodPost, directURL+"/v2.1/"+ns+"/servers/x/action", token(tokens["observer"]), []byte(`{"reboot": {}}`))
		Expect(err).NotTo(HaveOccurred())
		expectNovaError(r, http.StatusForbidden, "forbidden", Equal("Policy doesn't allow servers/action:create to be performed."))
	})
})

func expectFault(body []byte, key string, code int) {
	GinkgoHelper()
	var fault map[string]map[string]any
	Expect(json.Unmarshal(body, &fault)).To(Succeed(), "body: %q", body)
	Expect(fault).To(HaveKeyWithValue(key, HaveKeyWithValue("code", BeNumerically("==", code))))
}

// slowHTTP2Post POSTs body over a new HTTP/2 connection as a single-threaded client (curl)
// does: it sends the whole body, here in chunks spread over more than a second (longer
// than a server that sent GOAWAY waits before it closes), and only then reads the answer.
// Failing to send is an error, as it is for such a client.
func slowHTTP2Post(rawURL string, header map[string]string, body []byte) (int, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, nil, err
	}
	roots := tlsClient.Transport.(*http.Transport).TLSClientConfig.RootCAs
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}})
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		return 0, nil, err
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		return 0, nil, err
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := [][2]string{
		{":method", http.MethodPost}, {":scheme", "https"}, {":authority", u.Host}, {":path", u.RequestURI()},
		{"content-type", "application/json"}, {"content-length", strconv.Itoa(len(body))},
	}
	for k, v := range header {
		fields = append(fields, [2]string{strings.ToLower(k), v})
	}
	for _, f := range fields {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return 0, nil, err
		}
	}
	const stream = 1
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		return 0, nil, err
	}
	const chunk = 16 << 10
	// The client sends its body at a fixed pace over 1.5 s, as a slow uploader does, so the
	// server's answer comes while it is still sending.
	pace := time.NewTicker(1500 * time.Millisecond / time.Duration((len(body)+chunk-1)/chunk))
	defer pace.Stop()
	for sent := 0; sent < len(body); {
		n := min(chunk, len(body)-sent)
		if err := fr.WriteData(stream, sent+n == len(body), body[sent:sent+n]); err != nil {
			return 0, nil, fmt.Errorf("sending the body, after %d of %d bytes: %w", sent, len(body), err)
		}
		sent += n
		<-pace.C
	}

	code, answer := 0, []byte{}
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			code, _ = strconv.Atoi(f.Value)
		}
	})
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return code, answer, fmt.Errorf("reading the answer: %w", err)
		}
		if f.Header().StreamID != stream {
			continue
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				return code, answer, err
			}
			if f.StreamEnded() {
				return code, answer, nil
			}
		case *http2.DataFrame:
			answer = append(answer, f.Data()...)
			if f.StreamEnded() {
				return code, answer, nil
			}
		case *http2.RSTStreamFrame:
			return code, answer, errors.New("the stream was reset before the answer ended: " + f.ErrCode.String())
		}
	}
}
