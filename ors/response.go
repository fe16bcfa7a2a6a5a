package ors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/callbackd/callbackd"
)

// MaxResponseBytes is the most of an answer callbackd reads. A submit
// answer is a few fields; anything larger is a platform gone wrong, and
// reading it whole would let that platform exhaust callbackd's memory.
const MaxResponseBytes = 64 << 10

// maxSessionIDLen bounds a session id: it is stored with the callback,
// returned by queries and put in the cancel URL.
const maxSessionIDLen = 256

// maxMessageRunes bounds the platform's text quoted in an error, so that
// an HTML error page does not end up whole in a log line or an API answer.
const maxMessageRunes = 256

// invalidResponse is spec 001's ORS_ERROR message for an answer callbackd
// cannot use; the detail after it says what was wrong.
const invalidResponse = "Invalid ORS response"

// sessionFields are the answer fields that may carry the session id, in the
// order they are looked for. _ors_session_id is canonical (it is the name
// the callback record uses); sessionid (ORS's own answer) and id are
// accepted so that existing platforms need no change.
var sessionFields = []string{callbackd.KeySessionID, "sessionid", "id"}

// readBounded reads at most MaxResponseBytes of the body and says whether
// there was more.
func readBounded(resp *http.Response) (data []byte, tooLarge bool, err error) {
	data, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxResponseBytes {
		return data[:MaxResponseBytes], true, nil
	}
	return data, false, nil
}

// drain reads what is left of a small answer, so that the connection can
// serve the next request, and gives up on a large one.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
}

// sessionID finds the session id in a success answer. A string or a number
// is accepted (platforms number their sessions); the first non-empty field
// of sessionFields wins.
func sessionID(data []byte) (string, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return "", errors.New("is not a JSON object")
	}
	for _, name := range sessionFields {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&v) != nil {
			continue
		}
		var id string
		switch x := v.(type) {
		case string:
			id = strings.TrimSpace(x)
		case json.Number:
			id = x.String()
		default:
			continue
		}
		if id == "" {
			continue
		}
		if len(id) > maxSessionIDLen || strings.IndexFunc(id, unicode.IsControl) >= 0 || id == "." || id == ".." {
			return "", fmt.Errorf("has an unusable %s", name)
		}
		return id, nil
	}
	return "", errors.New("has no " + callbackd.KeySessionID)
}

// refusal is the message of an answer that is not a success: the status,
// then the platform's own words: the "message" of a JSON body (the shape of
// callbackd's and GMS's errors), else the start of the body as text.
func refusal(code int, data []byte) string {
	msg := platformMessage(data)
	if msg == "" {
		return "ORS answered " + statusLine(code)
	}
	return "ORS answered " + statusLine(code) + ": " + msg
}

// platformMessage extracts the platform's explanation from an error body.
func platformMessage(data []byte) string {
	var body struct {
		Message any `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil {
		if s, ok := body.Message.(string); ok && strings.TrimSpace(s) != "" {
			return clip(s)
		}
	}
	return clip(string(data))
}

// clip makes text fit in one log line: valid UTF-8, no control characters,
// spaces collapsed, at most maxMessageRunes runes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) <= maxMessageRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxMessageRunes]) + "…"
}

// statusLine is "503 Service Unavailable": the code for machines, the text
// for people reading the message.
func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("%d %s", code, text)
	}
	return fmt.Sprint(code)
}
