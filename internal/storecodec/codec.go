// Package storecodec is the stored form of a callback's properties and
// holds, shared by every store so that they always write the same thing:
// JSON objects and arrays in text columns. Rate holds are uses, not kept
// with the callback, so they are never stored.
package storecodec

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/callbackd/callbackd"
)

// EncodeProps renders properties; none is "{}".
func EncodeProps(p map[string]string) (string, error) {
	if len(p) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// DecodeProps reads stored properties; it never returns a nil map.
func DecodeProps(s string) (map[string]string, error) {
	p := map[string]string{}
	if s == "" || s == "{}" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("corrupt properties: %w", err)
	}
	return p, nil
}

// EncodeHolds renders the holds a callback keeps.
func EncodeHolds(hs []callbackd.Hold) (string, error) {
	kept := slices.DeleteFunc(slices.Clone(hs), callbackd.Hold.IsRate)
	if len(kept) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(kept)
	return string(b), err
}

// DecodeHolds reads stored holds.
func DecodeHolds(s string) ([]callbackd.Hold, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var hs []callbackd.Hold
	if err := json.Unmarshal([]byte(s), &hs); err != nil {
		return nil, fmt.Errorf("corrupt holds: %w", err)
	}
	return hs, nil
}
