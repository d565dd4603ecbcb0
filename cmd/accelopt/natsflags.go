package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/accelopt/accelopt/sweep"
)

// Environment variables with NATS credentials: never on the command line,
// where other users of the machine see them.
const (
	envNATSUser     = "NATS_USER"
	envNATSPassword = "NATS_PASSWORD"
	envNATSToken    = "NATS_TOKEN"
)

// natsFlags are the security flags shared by sweep and worker: how to
// authenticate to a NATS server and the TLS files.
type natsFlags struct {
	creds, nkey            string
	tlsCA, tlsCert, tlsKey string
}

// register adds the flags to f.
func (n *natsFlags) register(f *pflag.FlagSet) {
	f.StringVar(&n.creds, "creds", "", "NATS credentials file (user JWT and NKey seed, decentralized auth); or set NATS_TOKEN, or NATS_USER and NATS_PASSWORD")
	f.StringVar(&n.nkey, "nkey", "", "file with the NATS user's NKey seed")
	f.StringVar(&n.tlsCA, "tls-ca", "", "PEM file of the CA that signed the NATS server's certificate (with --embedded-nats: clients must show a certificate signed by it)")
	f.StringVar(&n.tlsCert, "tls-cert", "", "PEM certificate: this client's for the NATS server (with --embedded-nats: the server's)")
	f.StringVar(&n.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
}

// envCreds are the credentials found in the environment.
type envCreds struct {
	user, password, token string
}

func readEnvCreds(getenv func(string) string) envCreds {
	return envCreds{user: getenv(envNATSUser), password: getenv(envNATSPassword), token: getenv(envNATSToken)}
}

// check reports credentials that cannot be used: half a user/password pair,
// or more than one way to authenticate (flags included).
func (e envCreds) check(flags ...string) error {
	if (e.user == "") != (e.password == "") {
		return fmt.Errorf("%s and %s go together: set both or neither", envNATSUser, envNATSPassword)
	}
	given := flags
	if e.user != "" {
		given = append(given, envNATSUser+"/"+envNATSPassword)
	}
	if e.token != "" {
		given = append(given, envNATSToken)
	}
	if len(given) > 1 {
		return fmt.Errorf("give one way to authenticate to NATS, not %s", strings.Join(given, " and "))
	}
	return nil
}

// keyPair loads --tls-cert and --tls-key, which go together.
func (n *natsFlags) keyPair() ([]tls.Certificate, error) {
	if (n.tlsCert == "") != (n.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if n.tlsCert == "" {
		return nil, nil
	}
	c, err := sweep.LoadKeyPair(n.tlsCert, n.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return []tls.Certificate{c}, nil
}

// clientOptions checks the flags, files and environment of a client
// (coordinator with --nats, or worker) and returns its connection options.
func (n *natsFlags) clientOptions(name string, getenv func(string) string) (sweep.ClientOptions, error) {
	o := sweep.ClientOptions{Name: name}
	env := readEnvCreds(getenv)
	var flags []string
	if n.creds != "" {
		flags = append(flags, "--creds")
	}
	if n.nkey != "" {
		flags = append(flags, "--nkey")
	}
	if err := env.check(flags...); err != nil {
		return o, err
	}
	switch {
	case n.creds != "":
		if err := sweep.CheckCredsFile(n.creds); err != nil {
			return o, fmt.Errorf("--creds: %w", err)
		}
		o.CredsFile = n.creds
	case n.nkey != "":
		if _, err := nats.NkeyOptionFromSeed(n.nkey); err != nil {
			return o, fmt.Errorf("--nkey %s: %s", n.nkey, strings.TrimPrefix(err.Error(), "nats: "))
		}
		o.NKeyFile = n.nkey
	case env.user != "":
		o.User, o.Password = env.user, env.password
	case env.token != "":
		o.Token = env.token
	}
	certs, err := n.keyPair()
	if err != nil {
		return o, err
	}
	if n.tlsCA != "" || certs != nil {
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs}
		if n.tlsCA != "" {
			if o.TLS.RootCAs, err = sweep.LoadCA(n.tlsCA); err != nil {
				return o, fmt.Errorf("--tls-ca: %w", err)
			}
		}
	}
	return o, nil
}

// serverOptions checks the flags and environment for --embedded-nats and
// returns the server's options: NATS_TOKEN or NATS_USER/NATS_PASSWORD are
// required of clients; --tls-cert/--tls-key are the server's certificate, and
// --tls-ca makes it require client certificates signed by that CA.
func (n *natsFlags) serverOptions(addr, storeDir string, getenv func(string) string) (sweep.ServerOptions, error) {
	o := sweep.ServerOptions{Addr: addr, StoreDir: storeDir}
	if n.creds != "" || n.nkey != "" {
		return o, errors.New("--creds and --nkey are for an external NATS server (--nats); an embedded server takes NATS_TOKEN, or NATS_USER and NATS_PASSWORD, or generates a token")
	}
	env := readEnvCreds(getenv)
	if err := env.check(); err != nil {
		return o, err
	}
	o.Token, o.User, o.Password = env.token, env.user, env.password
	certs, err := n.keyPair()
	if err != nil {
		return o, err
	}
	if certs == nil {
		if n.tlsCA != "" {
			return o, errors.New("--tls-ca with --embedded-nats needs the server's certificate: --tls-cert and --tls-key")
		}
		return o, nil
	}
	o.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs}
	if n.tlsCA != "" {
		if o.TLS.ClientCAs, err = sweep.LoadCA(n.tlsCA); err != nil {
			return o, fmt.Errorf("--tls-ca: %w", err)
		}
		o.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return o, nil
}

// workerHint is the command line that workers on other machines run to join
// an embedded server: how to pass its token or user and its TLS files.
func (n *natsFlags) workerHint(srv *sweep.Server, tlsOn bool) string {
	scheme := "nats"
	if tlsOn {
		scheme = "tls"
	}
	var env string
	switch srv.Auth() {
	case sweep.AuthGeneratedToken:
		env = envNATSToken + "=" + srv.Token() + " "
	case sweep.AuthToken:
		env = envNATSToken + "=<the same token> "
	case sweep.AuthUser:
		env = envNATSUser + "=<user> " + envNATSPassword + "=<password> "
	}
	hint := fmt.Sprintf("%saccelopt worker --nats %s://<this host>:%d", env, scheme, srv.Port())
	if tlsOn {
		hint += " --tls-ca <CA of " + n.tlsCert + ">"
		if n.tlsCA != "" {
			hint += " --tls-cert <client cert signed by " + n.tlsCA + "> --tls-key <its key>"
		}
	}
	return hint
}
