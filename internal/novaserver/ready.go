package novaserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitReady polls /readyz of a nova-api on securePort of loopback (open to anonymous
// requests), which passes once its informer cache has synced. gone, if not nil, says why
// the process can no longer become ready (it exited), ending the wait at once.
func WaitReady(ctx context.Context, securePort int, timeout time.Duration, gone func() error) error {
	hc := &http.Client{
		Timeout: 2 * time.Second,
		// Only readiness matters here; the certificate is checked by kube-apiserver.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	defer hc.CloseIdleConnections()
	url := fmt.Sprintf("https://127.0.0.1:%d/readyz", securePort)
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if gone != nil {
			if err := gone(); err != nil {
				return false, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
