package novaserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi"
)

// Reads past the informer cache (internal/novaapi/consistency.go: what a client may have
// just written, through any replica) are a few small requests per API call, made for the
// callers; they get a client of their own so that they never wait behind a rate limit set
// for the writes (--kube-api-qps) nor use it up. kube-apiserver's API Priority and Fairness
// is what bounds them: client-go's own limiter is off (a negative QPS).
const liveReadQPS = -1

// versionColumns are the Server table's columns a check reads, in the order of
// novaapi.ServerVersion's fields (api/v1alpha1: the printer columns; Name is every table's).
var versionColumns = [...]string{"Name", "ID", "Resource Version"}

// liveReader is the client the Nova handler reads past the cache with, and lists servers'
// versions by their table (novaapi.ServerVersionLister).
type liveReader struct {
	client.Reader
	servers rest.Interface
}

// newLiveReader is the client the Nova handler reads past the cache with.
func newLiveReader(cfg *rest.Config, scheme *runtime.Scheme) (client.Reader, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = liveReadQPS
	// A page's check reads a table of up to a thousand servers, which kube-apiserver would
	// gzip (above 128 KiB) and nova-api then inflate: CPU on both sides of the page's
	// critical path, for bytes that cross a cluster's network or loopback.
	cfg.DisableCompression = true
	cfg.UserAgent += " (reads)"
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	tables := rest.CopyConfig(cfg)
	tables.GroupVersion = &computev1.GroupVersion
	tables.APIPath = "/apis"
	tables.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	servers, err := rest.RESTClientFor(tables)
	if err != nil {
		return nil, err
	}
	return liveReader{Reader: c, servers: servers}, nil
}

// serverTable is the part of a meta.k8s.io/v1 Table of Servers that a check reads, each
// cell decoded as a C.
type serverTable[C any] struct {
	ColumnDefinitions []struct {
		Name string `json:"name"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells []C `json:"cells"`
	} `json:"rows"`
}

// ListServerVersions asks for the table of ns's servers that sel matches, without the
// objects: kube-apiserver evaluates the printer columns of each, where the metadata a
// metadata-only LIST would return is built from every server's managed fields.
func (l liveReader) ListServerVersions(ctx context.Context, ns string, sel labels.Selector) ([]novaapi.ServerVersion, error) {
	raw, err := l.servers.Get().Namespace(ns).Resource("servers").
		Param("labelSelector", sel.String()).Param("includeObject", "None").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return decodeVersions(raw)
}

// decodeVersions reads the rows' names, uids and resourceVersions from a table's JSON.
func decodeVersions(raw []byte) ([]novaapi.ServerVersion, error) {
	// Every column of the Servers' table is text (a string or a date; null where a field is
	// unset, read as ""), so its cells are decoded as strings, in half the time that
	// decoding each cell as JSON of its own takes; a table with a column that is not text
	// (another version of the CRD, say) is decoded again, each cell read alone.
	var text serverTable[string]
	err := json.Unmarshal(raw, &text)
	var notText *json.UnmarshalTypeError
	if errors.As(err, &notText) {
		var t serverTable[json.RawMessage]
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("reading the servers' table: %w", err)
		}
		return versionsOf(t, func(c json.RawMessage) (s string, err error) { return s, json.Unmarshal(c, &s) })
	}
	if err != nil {
		return nil, fmt.Errorf("reading the servers' table: %w", err)
	}
	return versionsOf(text, func(c string) (string, error) { return c, nil })
}

// versionsOf reads each row's name, uid and resourceVersion from t, each cell by text.
func versionsOf[C any](t serverTable[C], text func(C) (string, error)) ([]novaapi.ServerVersion, error) {
	// Where each column read is, in the order of versionColumns: found once per table.
	at := [len(versionColumns)]int{-1, -1, -1}
	for i, c := range t.ColumnDefinitions {
		if j := slices.Index(versionColumns[:], c.Name); j >= 0 {
			at[j] = i
		}
	}
	if slices.Contains(at[:], -1) {
		return nil, novaapi.ErrNoVersionColumns
	}
	out := make([]novaapi.ServerVersion, len(t.Rows))
	for i, r := range t.Rows {
		var cells [len(versionColumns)]string
		for j, col := range at {
			if col >= len(r.Cells) {
				return nil, fmt.Errorf("a row of the servers' table has %d cells", len(r.Cells))
			}
			var err error
			if cells[j], err = text(r.Cells[col]); err != nil {
				return nil, fmt.Errorf("reading the servers' table, column %q: %w", versionColumns[j], err)
			}
		}
		out[i] = novaapi.ServerVersion{Name: cells[0], UID: types.UID(cells[1]), ResourceVersion: cells[2]}
	}
	return out, nil
}
