package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// conn is one worker's kept-alive HTTP/1.1 connection. The load tool
// writes requests and reads answers itself (http.ReadResponse) instead of
// going through http.Client: on a 2-core machine the tool shares the CPU
// with the server it measures, and the client's connection pool,
// per-connection goroutines and channel hand-offs cost about as much CPU
// per request as a small handler. One connection per worker, one request
// at a time on it, as -c promises.
type conn struct {
	addr    string // host:port
	host    string // Host header
	timeout time.Duration
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	body    bytes.Buffer // the last answer's body, reused
}

// target splits a base URL into the address to dial, the Host header and
// the path prefix. Only plain HTTP: the load runs on loopback or a lab
// network, and TLS would measure the handshake library.
func target(base string) (addr, host, prefix string, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", "", err
	}
	if u.Scheme != "http" || u.Host == "" {
		return "", "", "", fmt.Errorf("URL %q: want http://host:port/base-path", base)
	}
	addr = u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return addr, u.Host, u.EscapedPath(), nil
}

// roundTrip sends one request and reads the whole answer. The body stays
// valid until the next call. An error means no complete answer came; the
// connection is then closed and the next call dials again.
func (c *conn) roundTrip(method, path, body string) (status int, respBody []byte, err error) {
	if c.nc == nil {
		nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, nil, err
		}
		c.nc = nc
		c.br = bufio.NewReaderSize(nc, 16<<10)
		c.bw = bufio.NewWriterSize(nc, 4<<10)
	}
	_ = c.nc.SetDeadline(timer.Now().Add(c.timeout))
	bw := c.bw
	bw.WriteString(method)
	bw.WriteByte(' ')
	bw.WriteString(path)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(c.host)
	bw.WriteString("\r\nUser-Agent: callbackd-bench\r\n")
	if body != "" {
		bw.WriteString("Content-Type: application/json\r\nContent-Length: ")
		bw.WriteString(strconv.Itoa(len(body)))
		bw.WriteString("\r\n\r\n")
		bw.WriteString(body)
	} else {
		bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil {
		c.close()
		return 0, nil, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, nil, err
	}
	c.body.Reset()
	_, err = io.Copy(&c.body, res.Body)
	res.Body.Close()
	if err != nil {
		c.close()
		return 0, nil, err
	}
	if res.Close {
		c.close()
	}
	return res.StatusCode, c.body.Bytes(), nil
}

func (c *conn) close() {
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc = nil
	}
}
