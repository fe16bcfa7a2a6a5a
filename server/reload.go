package server

import (
	"github.com/callbackd/callbackd"

	"context"
	"crypto/sha256"
	"os"
	"time"
)

// fileStamp identifies a version of the configuration file. The content
// hash decides; size and modification time only make polling cheap.
type fileStamp struct {
	size    int64
	modTime time.Time
	sum     [32]byte
}

func statFile(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{size: fi.Size(), modTime: fi.ModTime(), sum: sha256.Sum256(b)}, nil
}

// Reload reads the configuration file again and puts it in force. A file
// that does not validate is refused: the old configuration stays, and the
// reason is logged and returned. Options that need a restart (listen,
// base_path, log_format, log_level, storage) keep their running values,
// with a warning.
//
// A configuration put in force is announced at once with a heartbeat, so
// that the nodes table shows the new fingerprint without waiting for the
// next beat.
func (s *Server) Reload() error {
	if err := s.reload(); err != nil {
		return err
	}
	s.beat(context.Background())
	return nil
}

func (s *Server) reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	stamp, err := statFile(s.opts.ConfigPath)
	if err != nil {
		s.log.Error("configuration reload refused, keeping the running configuration", "file", s.opts.ConfigPath, "error", err)
		return err
	}
	cfg, err := s.load()
	if err != nil {
		s.log.Error("configuration reload refused, keeping the running configuration", "file", s.opts.ConfigPath, "error", err)
		s.stamp = stamp // do not retry the same bad file on every poll
		return err
	}
	old := s.Config()
	if cfg.Server.Listen != old.Server.Listen || cfg.Server.BasePath != old.Server.BasePath {
		s.log.Warn("configuration reload: [server] listen and base_path take effect at the next restart")
		cfg.Server.Listen, cfg.Server.BasePath = old.Server.Listen, old.Server.BasePath
	}
	if cfg.Server.LogFormat != old.Server.LogFormat || cfg.Server.LogLevel != old.Server.LogLevel {
		s.log.Warn("configuration reload: [server] log_format and log_level take effect at the next restart")
		cfg.Server.LogFormat, cfg.Server.LogLevel = old.Server.LogFormat, old.Server.LogLevel
	}
	if cfg.Storage.URL != old.Storage.URL {
		s.log.Warn("configuration reload: [storage] url takes effect at the next restart")
		cfg.Storage.URL = old.Storage.URL
	}
	if !sameDialer(cfg.Dialer, old.Dialer) {
		s.log.Warn("configuration reload: [dialer] takes effect at the next restart")
		cfg.Dialer = old.Dialer
	}
	s.stamp = stamp
	s.cfg.Store(cfg)
	s.log.Info("configuration reloaded", "file", s.opts.ConfigPath, "services", len(cfg.Services))
	s.logWarnings(cfg)
	return nil
}

// CheckConfigFile reloads the configuration if the file changed since it
// was last read. It reports whether it tried.
func (s *Server) CheckConfigFile() (bool, error) {
	stamp, err := statFile(s.opts.ConfigPath)
	s.reloadMu.Lock()
	same := err == nil && stamp.sum == s.stamp.sum
	s.reloadMu.Unlock()
	if same {
		return false, nil
	}
	return true, s.Reload()
}

// WatchConfig polls the configuration file every interval until ctx ends,
// reloading when it changes. Polling (not inotify) also sees files that
// editors and configuration managers replace by rename, and files on
// network filesystems.
func (s *Server) WatchConfig(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.CheckConfigFile()
		}
	}
}

// sameDialer reports whether two [dialer] sections place calls the same
// way.
func sameDialer(a, b callbackd.DialerConfig) bool {
	if a.Type != b.Type || a.Configured != b.Configured || a.Ring != b.Ring || a.Talk != b.Talk || a.Journal != b.Journal || len(a.Rules) != len(b.Rules) {
		return false
	}
	for i := range a.Rules {
		if a.Rules[i].Outcome != b.Rules[i].Outcome || a.Rules[i].Pattern.String() != b.Rules[i].Pattern.String() {
			return false
		}
	}
	return true
}

// logWarnings logs what the configuration does that an operator should
// know (no real calls placed, a queue no agent serves), at every start
// and reload.
func (s *Server) logWarnings(cfg *callbackd.Config) {
	for _, w := range cfg.Warnings() {
		s.log.Warn("configuration: " + w)
	}
}
