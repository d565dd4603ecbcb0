package sweep

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// ClientOptions say how a coordinator or worker connects to a NATS server:
// its name, how it authenticates (at most one of CredsFile, NKeyFile,
// User/Password and Token; credentials in the URL work too) and its TLS
// settings.
type ClientOptions struct {
	// Name is the connection's name as the server shows it.
	Name string
	// CredsFile is a decentralized-auth credentials file (user JWT and NKey
	// seed), as `nsc` writes it.
	CredsFile string
	// NKeyFile holds a user NKey seed (SU...).
	NKeyFile string
	// User and Password authenticate with a user name and password.
	User, Password string
	// Token authenticates with a token.
	Token string
	// TLS, when set, makes the connection use TLS with this configuration
	// (root CAs to verify the server, a client certificate). A tls:// URL
	// or a server that requires TLS also makes it use TLS, with the system's
	// roots when TLS is nil.
	TLS *tls.Config
	// Wait makes Connect wait for a server that cannot be reached yet
	// (retrying until ctx ends) instead of failing at once. A server that
	// refuses the credentials or the certificate is an error either way.
	Wait bool
	// OnWait, when set, receives each failed attempt while Connect waits.
	OnWait func(error)
	// OnError, when set, receives the errors the connection meets after it
	// is made (the client library's asynchronous errors), except failed
	// reconnection attempts to an unreachable server. A server that refuses
	// the credentials or certificate on reconnection closes the connection
	// for good (it would refuse them again), with a last error here.
	OnError func(error)
}

// method names the authentication method in use, for error messages.
func (o *ClientOptions) method() string {
	switch {
	case o.CredsFile != "":
		return "credentials file " + o.CredsFile
	case o.NKeyFile != "":
		return "NKey seed file " + o.NKeyFile
	case o.User != "":
		return "user " + o.User + " with a password"
	case o.Token != "":
		return "a token"
	}
	return ""
}

// check reports options that contradict each other.
func (o *ClientOptions) check() error {
	var given []string
	if o.CredsFile != "" {
		given = append(given, "a credentials file")
	}
	if o.NKeyFile != "" {
		given = append(given, "an NKey seed file")
	}
	if o.User != "" || o.Password != "" {
		given = append(given, "a user and password")
	}
	if o.Token != "" {
		given = append(given, "a token")
	}
	if len(given) > 1 {
		return fmt.Errorf("give one way to authenticate, not %s", strings.Join(given, " and "))
	}
	if (o.User == "") != (o.Password == "") {
		return errors.New("a user needs a password and a password needs a user")
	}
	return nil
}

// natsOptions turns the options into the client library's.
func (o *ClientOptions) natsOptions() ([]nats.Option, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	opts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond)}
	switch {
	case o.CredsFile != "":
		if err := CheckCredsFile(o.CredsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	case o.NKeyFile != "":
		opt, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("NKey seed file %s: %s", o.NKeyFile, strings.TrimPrefix(err.Error(), "nats: "))
		}
		opts = append(opts, opt)
	case o.User != "":
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	case o.Token != "":
		opts = append(opts, nats.Token(o.Token))
	}
	if o.TLS != nil {
		opts = append(opts, nats.Secure(o.TLS))
	}
	opts = append(opts,
		nats.ErrorHandler(func(nc *nats.Conn, _ *nats.Subscription, err error) { o.asyncError(nc, err) }),
		nats.ReconnectErrHandler(func(nc *nats.Conn, err error) { o.asyncError(nc, err) }))
	return opts, nil
}

// asyncError handles an error met by an established connection: a refusal
// of the credentials or certificate while reconnecting closes it.
func (o *ClientOptions) asyncError(nc *nats.Conn, err error) {
	if err == nil {
		return
	}
	kind, msg := classifyConnError(err, o)
	switch kind {
	case connAuth, connCert, connTLS:
		if o.OnError != nil {
			o.OnError(fmt.Errorf("nats server refused the reconnection: %s; closing the connection", msg))
		}
		nc.Close()
	case connUnreachable:
		// Reconnection attempts while the server is away: expected.
	default:
		if o.OnError != nil {
			o.OnError(fmt.Errorf("nats: %s", oneLine(err.Error())))
		}
	}
}

// CheckCredsFile reports whether path is a readable credentials file with a
// user JWT and a user NKey seed.
func CheckCredsFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	tok, err := jwt.ParseDecoratedJWT(data)
	if err == nil {
		_, err = jwt.DecodeUserClaims(tok)
	}
	if err != nil {
		return fmt.Errorf("credentials file %s: no user JWT: %w", path, err)
	}
	kp, err := jwt.ParseDecoratedUserNKey(data)
	if err != nil {
		return fmt.Errorf("credentials file %s: no user NKey seed: %w", path, err)
	}
	kp.Wipe()
	return nil
}

// LoadCA reads a PEM file of CA certificates.
func LoadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// LoadKeyPair reads a PEM certificate and its private key.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// Connect connects to the NATS server at url for a sweep. Reconnection after
// a lost connection is unlimited. With o.Wait, a server that cannot be
// reached is waited for until ctx ends; otherwise the first attempt must
// succeed. The error says in one line whether the server was unreachable,
// refused the credentials (authorization violation) or the certificate, or
// wanted TLS; credentials in url are not shown.
func Connect(ctx context.Context, url string, o ClientOptions) (*nats.Conn, error) {
	opts, err := o.natsOptions()
	if err != nil {
		return nil, err
	}
	shown := RedactURL(url)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			return nc, nil
		}
		kind, msg := classifyConnError(err, &o)
		err = fmt.Errorf("nats server %s: %s", shown, msg)
		if kind != connUnreachable || !o.Wait {
			return nil, err
		}
		if o.OnWait != nil {
			o.OnWait(err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Kinds of connection failure.
const (
	connUnreachable = "unreachable"
	connAuth        = "authorization violation"
	connCert        = "bad certificate"
	connTLS         = "TLS mismatch"
	connOther       = "refused"
)

// classifyConnError names what went wrong in a failed connection attempt and
// returns a one-line message that starts with the kind.
func classifyConnError(err error, o *ClientOptions) (kind, msg string) {
	detail := oneLine(err.Error())
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalid    x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
		netErr     net.Error
		opErr      *net.OpError
		dnsErr     *net.DNSError
		authMethod = o.method()
	)
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
		errors.Is(err, nats.ErrAccountAuthExpired), errors.Is(err, nats.ErrNkeysNotSupported):
		if authMethod == "" {
			return connAuth, connAuth + ": the server requires credentials and none were given (set NATS_TOKEN, or NATS_USER and NATS_PASSWORD, or give --creds or --nkey)"
		}
		return connAuth, fmt.Sprintf("%s: the server refused %s (%s)", connAuth, authMethod, detail)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &verifyErr):
		return connCert, fmt.Sprintf("%s: the server's certificate was not accepted: %s (give the CA that signed it with --tls-ca)", connCert, detail)
	case errors.As(err, &alertErr), errors.As(err, &opErr) && opErr.Op == "remote error",
		errors.Is(err, nats.ErrTLS) && !(errors.As(err, &netErr) && netErr.Timeout()):
		// The server ends the handshake (an alert, or a closed
		// connection when the client reads the alert late).
		return connCert, fmt.Sprintf("%s: the server refused the TLS connection: %s (it may want a client certificate: --tls-cert and --tls-key)", connCert, detail)
	case errors.Is(err, nats.ErrSecureConnWanted), errors.As(err, &recordErr):
		return connTLS, fmt.Sprintf("%s: TLS was asked for (tls:// or --tls-*) but the server does not offer it (%s)", connTLS, detail)
	case errors.Is(err, nats.ErrSecureConnRequired):
		return connTLS, fmt.Sprintf("%s: the server requires TLS (%s)", connTLS, detail)
	case errors.Is(err, nats.ErrNoServers), errors.Is(err, io.EOF), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.As(err, &netErr) && netErr.Timeout():
		return connUnreachable, fmt.Sprintf("%s: %s", connUnreachable, detail)
	}
	return connOther, fmt.Sprintf("connection %s: %s", connOther, detail)
}

// RedactURL hides the credentials of NATS URLs (a comma-separated list):
// nats://user:secret@host becomes nats://user:xxxxx@host and a token
// nats://secret@host becomes nats://xxxxx@host.
func RedactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			// Unparsable: hide whatever stands before an '@'.
			if at := strings.LastIndexByte(p, '@'); at >= 0 {
				start := 0
				if k := strings.Index(p, "://"); k >= 0 && k < at {
					start = k + 3
				}
				parts[i] = p[:start] + "xxxxx" + p[at:]
			}
			continue
		}
		if u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("xxxxx")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
