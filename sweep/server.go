package sweep

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// How an embedded server authenticates its clients (ServerOptions, Server.Auth).
const (
	// AuthNone: any client may connect. Only on a loopback address.
	AuthNone = "none"
	// AuthToken: clients must present the token given in ServerOptions.
	AuthToken = "token"
	// AuthUser: clients must present the user and password given.
	AuthUser = "user"
	// AuthGeneratedToken: no credentials were given for an address other
	// clients can reach, so the server made up a token (kept in its store
	// folder, TokenFile, and reused when started again on it) and requires it.
	AuthGeneratedToken = "generated token"
)

// tokenFile is the name of a generated token's file in the store folder.
const tokenFile = "token"

// ServerOptions configure StartServer.
type ServerOptions struct {
	// Addr is host:port to listen on; port 0 picks a free one.
	Addr string
	// StoreDir holds the JetStream store (and a generated token), so that a
	// server started again on the same folder finds its queue and results.
	StoreDir string
	// Token, or User and Password, when set, are required of every client.
	// Without them a server on a loopback address is open and one on any
	// other address generates a token (EmbeddedAuth).
	Token          string
	User, Password string
	// TLS, when set, makes the server require TLS with this configuration:
	// its certificate and, with ClientAuth set to
	// tls.RequireAndVerifyClientCert and ClientCAs, client certificates.
	TLS *tls.Config
}

// EmbeddedAuth decides how an embedded server listening on host
// authenticates clients, given the credentials it was asked to require:
// a token or a user and password when given (never both); otherwise none
// on a loopback address (only processes of this machine reach it) and a
// generated token on any other (including all interfaces, "" or 0.0.0.0).
func EmbeddedAuth(host, token, user, password string) (string, error) {
	switch {
	case token != "" && (user != "" || password != ""):
		return "", errors.New("give a token or a user and password, not both")
	case (user == "") != (password == ""):
		return "", errors.New("a user needs a password and a password needs a user")
	case token != "":
		return AuthToken, nil
	case user != "":
		return AuthUser, nil
	case IsLoopbackHost(host):
		return AuthNone, nil
	}
	return AuthGeneratedToken, nil
}

// IsLoopbackHost reports whether a listen host reaches only this machine: a
// loopback IP, or a name all of whose addresses are loopback ones. The empty
// host and unspecified addresses (0.0.0.0, ::) mean every interface: false.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns             *server.Server
	auth           string
	token          string
	user, password string
	tokenFile      string
}

// StartServer starts an embedded NATS server with JetStream enabled (8 MB
// max payload), listening on o.Addr, keeping its streams under o.StoreDir,
// and authenticating clients as EmbeddedAuth decides.
func StartServer(o ServerOptions) (*Server, error) {
	host, portStr, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS address %q: want host:port, e.g. 127.0.0.1:4222", o.Addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded NATS address %q: bad port", o.Addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	auth, err := EmbeddedAuth(host, o.Token, o.User, o.Password)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	if err := os.MkdirAll(o.StoreDir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded NATS store %s: %w", o.StoreDir, err)
	}
	s := &Server{auth: auth, token: o.Token, user: o.User, password: o.Password}
	if auth == AuthGeneratedToken {
		s.tokenFile = filepath.Join(o.StoreDir, tokenFile)
		if s.token, err = loadOrMakeToken(s.tokenFile); err != nil {
			return nil, err
		}
	}
	opts := &server.Options{
		ServerName:    "accelopt-embedded",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      o.StoreDir,
		MaxPayload:    8 << 20,
		NoLog:         true,
		NoSigs:        true,
		Authorization: s.token,
		Username:      s.user,
		Password:      s.password,
	}
	if o.TLS != nil {
		opts.TLSConfig = o.TLS.Clone()
		opts.TLSConfig.MinVersion = max(opts.TLSConfig.MinVersion, tls.VersionTLS12)
		opts.TLSVerify = o.TLS.ClientAuth == tls.RequireAndVerifyClientCert
		opts.TLSTimeout = 5
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS server on %s did not start (is the port in use?)", o.Addr)
	}
	s.ns = ns
	return s, nil
}

// loadOrMakeToken returns the token kept in path, or makes one (128 random
// bits in hex) and writes it there, readable by the owner only.
func loadOrMakeToken(path string) (string, error) {
	if data, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(data)); tok != "" && !strings.ContainsAny(tok, " \t\r\n") {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("embedded NATS token: %w", err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("embedded NATS token: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("embedded NATS token: %w", err)
	}
	return tok, nil
}

// URL is the address clients connect to (tls:// when the server has TLS).
func (s *Server) URL() string { return s.ns.ClientURL() }

// Port is the port the server listens on.
func (s *Server) Port() int {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Auth is how the server authenticates clients (AuthNone, AuthToken,
// AuthUser or AuthGeneratedToken).
func (s *Server) Auth() string { return s.auth }

// Token is the token clients must present (given or generated), or "".
func (s *Server) Token() string { return s.token }

// TokenFile is the file holding a generated token, or "".
func (s *Server) TokenFile() string { return s.tokenFile }

// Connect opens an in-process connection to the server with its own
// credentials (no network, no TLS).
func (s *Server) Connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.InProcessServer(s.ns), nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond)}
	switch {
	case s.token != "":
		opts = append(opts, nats.Token(s.token))
	case s.user != "":
		opts = append(opts, nats.UserInfo(s.user, s.password))
	}
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
