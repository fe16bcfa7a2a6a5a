// Package inifile reads callbackd's configuration file: INI sections and
// options named as in the original system ([service.NAME] with _xxx
// options, [pattern.NAME], [callback], ...). It only reads; callbackd.NewConfig
// validates.
//
// Parsing choices that matter for the values operators write: only "=" separates a key from its
// value (regexes and URLs contain ":"), and inline comments are not
// recognised ("#" and ";" are common in regexes and statistics such as
// "ExpectedWaitTime;Queue;8999@SIP_Server;Environment"); a comment is a
// line that starts with "#" or ";".
package inifile

import (
	"fmt"

	"gopkg.in/ini.v1"

	"github.com/callbackd/callbackd"
)

var loadOptions = ini.LoadOptions{
	IgnoreInlineComment:       true,
	KeyValueDelimiters:        "=",
	SkipUnrecognizableLines:   false,
	AllowNonUniqueSections:    false,
	PreserveSurroundedQuote:   false,
	UnescapeValueDoubleQuotes: false,
}

// Parse reads INI text (a file path or bytes, as ini.Load accepts) into
// sections in file order.
func Parse(source any) ([]callbackd.Section, error) {
	f, err := ini.LoadSources(loadOptions, source)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	var out []callbackd.Section
	for _, sec := range f.Sections() {
		s := callbackd.Section{Name: sec.Name()}
		if s.Name == ini.DefaultSection {
			s.Name = ""
		}
		for _, k := range sec.Keys() {
			s.Keys = append(s.Keys, callbackd.KeyValue{Key: k.Name(), Value: k.Value()})
		}
		if s.Name == "" && len(s.Keys) == 0 {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// Load reads and validates a configuration file.
func Load(path string) (*callbackd.Config, error) {
	sections, err := Parse(path)
	if err != nil {
		return nil, err
	}
	return callbackd.NewConfig(sections)
}
