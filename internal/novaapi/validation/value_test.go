package validation

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/kova-dev/kova/internal/testenv/alloc"
)

// TestDeepJSONIsRefusedBeforeAllocating: a 1 MiB body of "[" once took nova-api from 74 MB
// to 500 MB (the decoder recursed once per bracket). It is malformed for Nova's decoder
// too, and must be refused after one pass over the bytes, allocating next to nothing.
func TestDeepJSONIsRefusedBeforeAllocating(t *testing.T) {
	deep := bytes.Repeat([]byte("["), 1<<20)
	deepObjects := bytes.Repeat([]byte(`{"a":`), 1<<18)
	const concurrent = 8
	allocated := alloc.By(func() {
		var wg sync.WaitGroup
		for i := range concurrent {
			body := deep
			if i%2 == 1 {
				body = deepObjects
			}
			wg.Go(func() {
				if _, err := Decode(body); err == nil {
					t.Error("a body of a million brackets decoded")
				}
			})
		}
		wg.Wait()
	})
	if allocated > 1<<20 {
		t.Errorf("decoding %d deep bodies allocated %d KiB, want under 1 MiB", concurrent, allocated>>10)
	}

	t.Run("as deep as Nova decodes is fine, one more is malformed", func(t *testing.T) {
		at := strings.Repeat("[", MaxBodyDepth) + strings.Repeat("]", MaxBodyDepth)
		if _, err := Decode([]byte(at)); err != nil {
			t.Errorf("depth %d: %v", MaxBodyDepth, err)
		}
		over := "[" + at + "]"
		if _, err := Decode([]byte(over)); err == nil {
			t.Errorf("depth %d decoded", MaxBodyDepth+1)
		}
		// Brackets inside strings are not nesting, nor are commas values.
		quoted := `{"a": "` + strings.Repeat("[{", 5000) + `\"[" }`
		if _, err := Decode([]byte(quoted)); err != nil {
			t.Errorf("brackets in a string: %v", err)
		}
		if _, err := Decode([]byte(`"` + strings.Repeat(",", 1<<19) + `"`)); err != nil {
			t.Errorf("commas in a string: %v", err)
		}
	})

	// A flat body costs about 200 bytes per value: a 1 MiB "[0,0,...]" once allocated
	// 100 MiB. The most values a body within Nova's size limit holds still decode.
	t.Run("more values than a body Nova reads can hold are too many", func(t *testing.T) {
		most := "[" + strings.Repeat("0,", MaxBodyValues-2) + "0]" // the array and its numbers
		if len(most) > 114688 {
			t.Fatalf("%d bytes: longer than Nova reads", len(most))
		}
		if _, err := Decode([]byte(most)); err != nil {
			t.Fatalf("%d bytes of values: %v", len(most), err)
		}
		wide := []byte("[" + strings.Repeat("0,", 1<<19-1) + "0]")
		var err error
		allocated := alloc.By(func() { _, err = Decode(wide) })
		if err != ErrTooManyItems {
			t.Errorf("1 MiB of values: %v", err)
		}
		if allocated > 64<<10 {
			t.Errorf("refusing 1 MiB of values allocated %d KiB", allocated>>10)
		}
	})
}
