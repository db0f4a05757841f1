package cachetrim

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Bounds of an interner's tables. Whatever a client writes into an object reaches them, so
// they are bounded: long strings and big maps are left alone (they are rarely shared), and a
// full table is emptied and starts over, which costs sharing, never correctness.
const (
	maxInternedLen = 128
	maxStrings     = 8192
	maxMapEntries  = 16
	maxMaps        = 2048
)

// interner makes the strings and string maps of decoded objects that are equal share one
// copy. A decoded Server holds its own copy of every string and map in it, though most are
// the same in every server of a tenant: label and annotation keys (the creation buckets of
// computev1.LabelCreated*, the user id), their values (a creation bucket is shared by the
// servers made in the same second), the namespace, the flavor, image and network names,
// the conditions' types, reasons and messages, the host. About half of a cached Server's
// bytes are such copies.
//
// Sharing is safe because a cached object is read-only: the cache's readers get deep copies
// (controller-runtime's default) or promise not to change what they read
// (client.UnsafeDisableDeepCopy); a deep copy gets maps of its own.
type interner struct {
	mu   sync.Mutex
	strs map[string]string
	// maps holds one map of each content seen, by mapKey.
	maps map[string]map[string]string
}

func newInterner() *interner {
	return &interner{strs: make(map[string]string), maps: make(map[string]map[string]string)}
}

// object interns every string and string map that obj, a pointer to a typed object, holds,
// except the metadata that is unique to it (name, uid, resourceVersion).
func (in *interner) object(obj any) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return // unstructured or metadata-only objects are left as they are
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.value(v.Elem())
}

var (
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
	timeType       = reflect.TypeFor[metav1.Time]()
	stringMapType  = reflect.TypeFor[map[string]string]()
)

func (in *interner) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); len(s) > 0 {
				v.SetString(in.str(s))
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			in.value(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (a Secret's data) are not text
		}
		for i := range v.Len() {
			in.value(v.Index(i))
		}
	case reflect.Map:
		if v.Type() == stringMapType && v.CanSet() && !v.IsNil() {
			v.Set(reflect.ValueOf(in.stringMap(v.Interface().(map[string]string))))
		}
	case reflect.Struct:
		switch v.Type() {
		case timeType:
			return // no strings; its location is shared already
		case objectMetaType:
			in.meta(v.Addr().Interface().(*metav1.ObjectMeta))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				in.value(v.Field(i))
			}
		}
	}
}

// meta interns what objects have in common: not the name, uid or resourceVersion, which
// would only fill the table.
func (in *interner) meta(m *metav1.ObjectMeta) {
	m.Namespace = in.str(m.Namespace)
	m.Labels = in.stringMap(m.Labels)
	m.Annotations = in.stringMap(m.Annotations)
	for i := range m.Finalizers {
		m.Finalizers[i] = in.str(m.Finalizers[i])
	}
	for i := range m.OwnerReferences {
		r := &m.OwnerReferences[i]
		r.APIVersion, r.Kind = in.str(r.APIVersion), in.str(r.Kind)
	}
}

// str returns the interned copy of s.
func (in *interner) str(s string) string {
	if s == "" || len(s) > maxInternedLen {
		return s
	}
	if c, ok := in.strs[s]; ok {
		return c
	}
	if len(in.strs) >= maxStrings {
		clear(in.strs)
	}
	in.strs[s] = s
	return s
}

// stringMap returns the one map with m's content, its keys and values interned.
func (in *interner) stringMap(m map[string]string) map[string]string {
	if len(m) == 0 || len(m) > maxMapEntries {
		return m
	}
	key, ok := mapKey(m)
	if !ok {
		return m
	}
	if c, ok := in.maps[key]; ok {
		return c
	}
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[in.str(k)] = in.str(v)
	}
	if len(in.maps) >= maxMaps {
		clear(in.maps)
	}
	in.maps[key] = shared
	return shared
}

// mapKey encodes m's content, its keys in order; false when m is too big to share.
func mapKey(m map[string]string) (string, bool) {
	keys := make([]string, 0, len(m))
	n := 0
	for k, v := range m {
		if len(k) > maxInternedLen || len(v) > maxInternedLen {
			return "", false
		}
		keys = append(keys, k)
		n += len(k) + len(v)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n + 4*len(keys))
	for _, k := range keys {
		// Each string is preceded by its length, so no content can pass for another.
		for _, s := range []string{k, m[k]} {
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
	return b.String(), true
}
