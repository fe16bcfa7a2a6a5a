package server

import (
	"io"
	"log/slog"
)

// NewLogger builds the logger [server] log_format and log_level ask for:
// "json" writes one object per line for log collectors, "text" key=value
// lines for people. Levels are debug, info (default), warn and error.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
