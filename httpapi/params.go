package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
)

// readParams reads a request's parameters from its query string and its
// body (JSON, form-urlencoded or multipart: what GMS clients send, per
// CLIENTS.md). Body values win over query values. JSON booleans and
// numbers become their text; nested objects and arrays are kept as their
// compact JSON text, since properties are strings.
func readParams(w http.ResponseWriter, r *http.Request, maxBytes int64) (callbacks.Params, error) {
	p := callbacks.Params{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p[k] = vs[len(vs)-1]
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return p, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, callbackd.BadParameter(map[string]any{"limit": maxBytes}, "Request body is larger than %d bytes", maxBytes)
		}
		return nil, callbackd.BadParameter(nil, "Cannot read request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, mtParams, _ := mime.ParseMediaType(ct)
	if mt == "" {
		// No content type: sniff, as lenient clients omit it.
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			mt = "application/json"
		} else {
			mt = "application/x-www-form-urlencoded"
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return p, decodeJSON(body, p)
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, callbackd.BadParameter(nil, "Malformed form body: %v", err)
		}
		for k, vs := range vals {
			p[k] = vs[len(vs)-1]
		}
		return p, nil
	case mt == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", mime.FormatMediaType(mt, mtParams))
		if err := r.ParseMultipartForm(maxBytes); err != nil {
			return nil, callbackd.BadParameter(nil, "Malformed multipart body: %v", err)
		}
		for k, vs := range r.MultipartForm.Value {
			p[k] = vs[len(vs)-1]
		}
		return p, nil
	}
	return nil, callbackd.BadParameter(map[string]any{"content_type": ct},
		"Unsupported Content-Type %q: send application/json, application/x-www-form-urlencoded or multipart/form-data", ct)
}

func decodeJSON(body []byte, p callbacks.Params) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return callbackd.BadParameter(nil, "Malformed JSON body: %v", jsonError(err))
	}
	if dec.More() {
		return callbackd.BadParameter(nil, "Malformed JSON body: trailing data after the object")
	}
	for k, raw := range obj {
		v, err := jsonText(raw)
		if err != nil {
			return callbackd.BadParameter(map[string]any{"option": k}, "Malformed JSON value for %s: %v", k, err)
		}
		p[k] = v
	}
	return nil
}

// jsonText flattens one JSON value to the string stored as the property.
func jsonText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '{', '[':
		var buf bytes.Buffer
		err := json.Compact(&buf, raw)
		return buf.String(), err
	}
	return string(raw), nil // true, false, numbers: their literal text
}

// jsonError hides the decoder's Go type names.
func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "the body must be a JSON object"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input"
	}
	return "invalid JSON"
}
