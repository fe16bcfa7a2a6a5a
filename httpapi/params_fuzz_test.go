package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callbackd/callbackd"
)

// FuzzReadParams feeds arbitrary bodies and content types to the request
// parser: it must never panic, and must either return parameters or a
// BAD_PARAMETER error.
func FuzzReadParams(f *testing.F) {
	f.Add("application/json", `{"_customer_number":"5115","_wait_for_agent":true,"n":1.5,"o":{"a":[1,2]},"z":null}`)
	f.Add("application/x-www-form-urlencoded", "_customer_number=5115&userData%5Bk%5D=v&_call_direction=")
	f.Add("multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xx--\r\n")
	f.Add("", `{"a":"b"}`)
	f.Add("text/plain", "hello")
	f.Add("application/json", `{"a":`)
	f.Add("application/json", `[1,2]`)
	f.Add("multipart/form-data", "--")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/x?q=1", strings.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		p, err := readParams(httptest.NewRecorder(), r, 1<<16)
		if err != nil {
			if e, ok := callbackd.AsError(err); !ok || e.Code != callbackd.CodeBadParameter || e.Status() != http.StatusBadRequest {
				t.Fatalf("error %v is not a BAD_PARAMETER", err)
			}
			return
		}
		if p == nil {
			t.Fatal("nil params without an error")
		}
	})
}
