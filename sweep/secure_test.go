package sweep

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/accelopt/accelopt/workload"
)

func TestEmbeddedAuth(t *testing.T) {
	for _, tc := range []struct {
		host, token, user, password string
		want                        string // mode, or a substring of the error
		err                         bool
	}{
		{host: "127.0.0.1", want: AuthNone},
		{host: "127.0.0.2", want: AuthNone},
		{host: "::1", want: AuthNone},
		{host: "[::1]", want: AuthNone},
		{host: "localhost", want: AuthNone},
		{host: "", want: AuthGeneratedToken},
		{host: "0.0.0.0", want: AuthGeneratedToken},
		{host: "::", want: AuthGeneratedToken},
		{host: "192.0.2.7", want: AuthGeneratedToken},
		{host: "10.1.2.3", want: AuthGeneratedToken},
		{host: "0.0.0.0", token: "s3cret", want: AuthToken},
		{host: "127.0.0.1", token: "s3cret", want: AuthToken},
		{host: "0.0.0.0", user: "u", password: "p", want: AuthUser},
		{host: "0.0.0.0", user: "u", want: "needs a password", err: true},
		{host: "127.0.0.1", password: "p", want: "needs a password", err: true},
		{host: "0.0.0.0", token: "t", user: "u", password: "p", want: "not both", err: true},
	} {
		got, err := EmbeddedAuth(tc.host, tc.token, tc.user, tc.password)
		switch {
		case tc.err && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("EmbeddedAuth(%q, %q, %q, %q): error %v, want one with %q", tc.host, tc.token, tc.user, tc.password, err, tc.want)
		case !tc.err && (err != nil || got != tc.want):
			t.Errorf("EmbeddedAuth(%q, %q, %q, %q) = %q, %v; want %q", tc.host, tc.token, tc.user, tc.password, got, err, tc.want)
		}
	}
}

// TestEmbeddedAllInterfaces starts a server on every interface without
// credentials: it must make up a token, keep it for a restart, and refuse
// clients without it.
func TestEmbeddedAllInterfaces(t *testing.T) {
	store := filepath.Join(t.TempDir(), "nats")
	srv, err := StartServer(ServerOptions{Addr: "0.0.0.0:0", StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	tok := srv.Token()
	if srv.Auth() != AuthGeneratedToken || len(tok) != 32 || srv.TokenFile() != filepath.Join(store, "token") {
		t.Fatalf("auth %q, token %q, file %q", srv.Auth(), tok, srv.TokenFile())
	}
	if st, err := os.Stat(srv.TokenFile()); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v", st, err)
	}
	url := "nats://127.0.0.1:" + itoa(srv.Port())
	ctx := context.Background()
	if _, err := Connect(ctx, url, ClientOptions{}); err == nil || !strings.Contains(err.Error(), "authorization violation") {
		t.Errorf("a client without the token: %v", err)
	}
	nc, err := Connect(ctx, url, ClientOptions{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	srv.Shutdown()
	again, err := StartServer(ServerOptions{Addr: "0.0.0.0:0", StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown()
	if again.Token() != tok {
		t.Errorf("restarted on the same store, the token changed")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, made for one test.
type testPKI struct {
	caPEM, serverPEM, serverKeyPEM, clientPEM, clientKeyPEM []byte
	pool                                                    *x509.CertPool
	server, client                                          tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accelopt test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{caPEM: pemBlock("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) (certPEM, keyPEM []byte, c tls.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "accelopt test"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certPEM, keyPEM = pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", kder)
		c, err = tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return certPEM, keyPEM, c
	}
	p.serverPEM, p.serverKeyPEM, p.server = leaf(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientPEM, p.clientKeyPEM, p.client = leaf(3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

// writeFiles writes the PKI's PEM files into dir: ca.pem, server.pem,
// server.key, client.pem, client.key.
func (p *testPKI) writeFiles(t *testing.T, dir string) {
	t.Helper()
	for name, data := range map[string][]byte{"ca.pem": p.caPEM, "server.pem": p.serverPEM, "server.key": p.serverKeyPEM,
		"client.pem": p.clientPEM, "client.key": p.clientKeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecureSweep runs a small sweep through embedded servers that require a
// token, a user and password, TLS, and TLS with client certificates. A worker
// without the credentials (or with wrong ones) is refused with a one-line
// error saying why; with them the sweep finishes with the results of a local
// run.
func TestSecureSweep(t *testing.T) {
	jobs := loadJobs(t, smallSpec)[:4]
	ref := Store{Dir: t.TempDir()}
	if err := RunLocal(context.Background(), ref, jobs, LocalOptions{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	pki := newTestPKI(t)
	secrets := []string{"tok-3f9a1c", "pw-77e1b2"}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{pki.server}}
	mutualTLS := &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	for _, tc := range []struct {
		name   string
		server ServerOptions
		scheme string
		good   ClientOptions
		bad    []ClientOptions
		want   []string // kind in the error of each bad client
	}{
		{name: "token", server: ServerOptions{Token: "tok-3f9a1c"}, scheme: "nats",
			good: ClientOptions{Token: "tok-3f9a1c"},
			bad:  []ClientOptions{{}, {Token: "wrong"}, {User: "u", Password: "pw-77e1b2"}},
			want: []string{"authorization violation: the server requires credentials and none were given", "authorization violation: the server refused a token", "authorization violation"}},
		{name: "user", server: ServerOptions{User: "u", Password: "pw-77e1b2"}, scheme: "nats",
			good: ClientOptions{User: "u", Password: "pw-77e1b2"},
			bad:  []ClientOptions{{}, {User: "u", Password: "nope"}},
			want: []string{"authorization violation", "authorization violation: the server refused user u"}},
		{name: "tls", server: ServerOptions{Token: "tok-3f9a1c", TLS: serverTLS}, scheme: "tls",
			good: ClientOptions{Token: "tok-3f9a1c", TLS: &tls.Config{RootCAs: pki.pool}},
			bad:  []ClientOptions{{Token: "tok-3f9a1c"}, {TLS: &tls.Config{RootCAs: pki.pool}}},
			want: []string{"bad certificate: the server's certificate was not accepted", "authorization violation"}},
		{name: "mutual tls", server: ServerOptions{TLS: mutualTLS}, scheme: "tls",
			good: ClientOptions{TLS: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}},
			bad:  []ClientOptions{{TLS: &tls.Config{RootCAs: pki.pool}}},
			want: []string{"bad certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.server
			o.Addr, o.StoreDir = "127.0.0.1:0", filepath.Join(t.TempDir(), "nats")
			srv, err := StartServer(o)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown()
			url := tc.scheme + "://127.0.0.1:" + itoa(srv.Port())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for i, b := range tc.bad {
				b.Wait = true // refusals are final even for a waiting worker
				bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := Connect(bctx, url, b)
				cancel()
				if err == nil {
					t.Fatalf("bad client %d connected", i)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.want[i]) || strings.Contains(msg, "\n") {
					t.Errorf("bad client %d: %q, want one line with %q", i, msg, tc.want[i])
				}
				for _, s := range secrets {
					if strings.Contains(msg, s) {
						t.Errorf("bad client %d: the error shows a secret: %q", i, msg)
					}
				}
			}
			// The coordinator uses its in-process connection, the worker
			// the network.
			cnc, err := srv.Connect("coordinator")
			if err != nil {
				t.Fatal(err)
			}
			defer cnc.Close()
			wnc, err := Connect(ctx, url, tc.good)
			if err != nil {
				t.Fatal(err)
			}
			defer wnc.Close()
			wctx, stopWorker := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := Work(wctx, wnc, WorkerOptions{Concurrency: 2}); err != nil {
					t.Error(err)
				}
			}()
			s := Store{Dir: t.TempDir()}
			err = Coordinate(ctx, cnc, s, jobs, CoordinatorOptions{Poll: 200 * time.Millisecond})
			stopWorker()
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, ref, s, jobs)
		})
	}
}

// TestConnectUnreachable checks that a waiting client waits for an
// unreachable server until its context ends, and a non-waiting one fails at
// once; both say "unreachable".
func TestConnectUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://u:secret@" + l.Addr().String()
	l.Close()
	_, err = Connect(context.Background(), url, ClientOptions{})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || strings.Contains(err.Error(), "secret") {
		t.Errorf("no server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	waits := 0
	_, err = Connect(ctx, url, ClientOptions{Wait: true, OnWait: func(error) { waits++ }})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || waits < 2 {
		t.Errorf("waiting client: %v after %d attempts", err, waits)
	}
}

func TestClientOptionsCheck(t *testing.T) {
	dir := t.TempDir()
	notCreds := filepath.Join(dir, "x.creds")
	if err := os.WriteFile(notCreds, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    ClientOptions
		want string
	}{
		{"two methods", ClientOptions{Token: "t", CredsFile: notCreds}, "one way to authenticate"},
		{"user without password", ClientOptions{User: "u"}, "needs a password"},
		{"missing creds", ClientOptions{CredsFile: filepath.Join(dir, "none.creds")}, "none.creds"},
		{"bad creds", ClientOptions{CredsFile: notCreds}, "no user JWT"},
		{"missing nkey", ClientOptions{NKeyFile: filepath.Join(dir, "none.nk")}, "none.nk"},
		{"bad nkey", ClientOptions{NKeyFile: notCreds}, "NKey seed file"},
	} {
		_, err := Connect(context.Background(), "nats://127.0.0.1:1", tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadCA(notCreds); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("LoadCA: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                    "nats://127.0.0.1:4222",
		"nats://s3cret@host:4222":                  "nats://xxxxx@host:4222",
		"nats://u:s3cret@host:4222":                "nats://u:xxxxx@host:4222",
		"tls://a:4222,nats://s3cret@b:4222":        "tls://a:4222,nats://xxxxx@b:4222",
		"nats://s3cret%zz@host:4222":               "nats://xxxxx@host:4222",
		"s3cret@host:4222":                         "xxxxx@host:4222",
		"nats://u:s3cret@host:4222/?x=1#frag%zz@x": "nats://xxxxx@x",
	} {
		if got := RedactURL(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// publishRaw puts a message on a job subject as someone other than the
// coordinator would.
func publishRaw(t *testing.T, js jetstream.JetStream, subject string, data []byte) {
	t.Helper()
	if _, err := js.Publish(context.Background(), subject, data); err != nil {
		t.Fatalf("publishing on %s: %v", subject, err)
	}
}

// jobJSON marshals a job.
func jobJSON(t *testing.T, j Job) []byte {
	t.Helper()
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestWorkerRefusesBadJobs publishes malformed, oversized and out-of-bounds
// jobs by hand: the worker reports each as failed with its reason (the
// coordinator records it) and goes on serving the good jobs.
func TestWorkerRefusesBadJobs(t *testing.T) {
	jobs := loadJobs(t, smallSpec)[:2]
	good := jobs[0]
	srv := startServer(t)
	nc, err := Connect(context.Background(), srv.URL(), ClientOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := namesOf("")
	if _, _, err := openQueue(context.Background(), js, n, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*Job)) Job {
		j := good
		j.Layers = append(j.Layers[:0:0], j.Layers...)
		f(&j)
		return j
	}
	manyLayers := mod(func(j *Job) {
		for len(j.Layers) <= 8 {
			j.Layers = append(j.Layers, j.Layers[0])
		}
	})
	huge := append([]byte(`{"version":1,"network":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	huge = append(huge, `"}`...)
	slow := mod(func(j *Job) { j.Starts, j.Rounds = 200, 800 })
	bad := []struct {
		name, hash string
		data       []byte
		want       string
	}{
		{"not JSON", "00000000000000a1", []byte(`{"version":1,`), "job message is not a job"},
		{"not an object", "00000000000000a2", []byte(`[1,2,3]`), "job message is not a job"},
		{"other version", "00000000000000c1", []byte(`{"version":2,"network":"n","new_field":1}`), "job format version 2"},
		{"unknown field", "00000000000000a3", []byte(`{"version":1,"network":"n","shell":"rm -rf /"}`), "unknown field"},
		{"trailing data", "00000000000000a4", append(jobJSON(t, good), "{}"...), "data after the job"},
		{"oversized", "00000000000000a5", huge, "exceeds this worker's limit"},
		{"too many layers", manyLayers.Hash(), jobJSON(t, manyLayers), "more than this worker's limit of 8"},
		{"huge dimension", "00000000000000a6", jobJSON(t, mod(func(j *Job) { j.Layers[0].C = 1 << 24 })), "C is 16777216, outside [1, 1048576]"},
		{"zero dimension", "00000000000000a7", jobJSON(t, mod(func(j *Job) { j.Layers[0].P = 0 })), "P is 0"},
		{"negative budget", "00000000000000a8", jobJSON(t, mod(func(j *Job) { j.Budgets.MaxPowerW = -1 })), "max_power_w -1"},
		{"huge budget", "00000000000000a9", jobJSON(t, mod(func(j *Job) { j.Budgets.MaxAreaMM2 = 1e300 })), "max_area_mm2"},
		{"too many starts", "00000000000000b1", jobJSON(t, mod(func(j *Job) { j.Starts = 1 << 30 })), "starts 1073741824"},
		{"unknown template", "00000000000000b2", jobJSON(t, mod(func(j *Job) { j.Template = "tpu" })), "template \"tpu\""},
		{"no layers", "00000000000000b3", jobJSON(t, mod(func(j *Job) { j.Layers = nil })), "no layers"},
		{"control characters", "00000000000000b4", jobJSON(t, mod(func(j *Job) { j.Network = "a\x1b[2J" })), "control characters"},
		{"wrong hash", "00000000000000b5", jobJSON(t, good), "does not match its subject"},
		{"too slow", slow.Hash(), jobJSON(t, slow), "job time limit"},
		{"malformed under a real job's hash", jobs[1].Hash(), []byte(`{"version":1,"layers":"many"}`), "job message is not a job"},
	}
	for _, tc := range bad {
		publishRaw(t, js, n.subject(tc.hash), tc.data)
	}
	publishRaw(t, js, n.subject("not-a-hash"), jobJSON(t, good))

	// The coordinator queues both jobs; the second is already queued (the
	// malformed message), so it is recorded as failed with the reason. The
	// worker starts once the coordinator has queued its jobs (an earlier
	// failure would be taken for one of a previous run and retried).
	var wlog eventLog
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	var wg sync.WaitGroup
	startWorker := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The limit must pass the good job (a fraction of a second,
			// seconds on a loaded machine) and stop the slow one (200
			// starts x 800 rounds: minutes).
			err := Work(wctx, nc, WorkerOptions{Concurrency: 1, OnEvent: wlog.add,
				Limits: Limits{MaxLayers: 8, JobTimeout: 5 * time.Second}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	s := Store{Dir: t.TempDir()}
	err = Coordinate(ctx, nc, s, jobs, CoordinatorOptions{Poll: 200 * time.Millisecond, OnEvent: func(ev Event) {
		if ev.Kind == EventInfo && strings.HasPrefix(ev.Err.Error(), "queued") {
			startWorker()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the worker has drained the queue (the bad jobs are not the
	// coordinator's, so it does not wait for them).
	for {
		info, err := js.Stream(ctx, n.stream)
		if err != nil {
			t.Fatal(err)
		}
		if info.CachedInfo().State.Msgs == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d messages left in the queue", info.CachedInfo().State.Msgs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stopWorker()
	wg.Wait()
	sum, err := BuildSummary(s, "", jobs)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Failed != 1 || sum.Rows[1].Status != StatusFailed ||
		!strings.Contains(sum.Rows[1].Error, "job refused by the worker: job message is not a job") {
		t.Fatalf("summary: %d done, %d failed, rows %+v", sum.Done, sum.Failed, sum.Rows)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, failedDir, jobs[1].Hash()+".json")); err != nil {
		t.Errorf("no failure record: %v", err)
	}
	if !s.Done(good.Hash()) {
		t.Error("the good job was not stored")
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) { checkFailedResult(t, js, n, tc.hash, tc.want) })
	}
	if n := wlog.count(EventFailed)["not-a-hash"]; n != 1 {
		t.Errorf("the message on a subject without a job hash gave %d failures, want 1", n)
	}
	if got := wlog.count(EventStart); len(got) != 2 || got[good.Hash()] != 1 || got[slow.Hash()] != 1 {
		t.Errorf("jobs started: %v, want the good and the slow one", got)
	}
}

// checkFailedResult checks that the bucket holds a failure with the reason
// for hash.
func checkFailedResult(t *testing.T, js jetstream.JetStream, n queueNames, hash, want string) {
	t.Helper()
	name := hash
	kv, err := js.KeyValue(context.Background(), n.bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), hash)
	if err != nil {
		t.Errorf("%s: no result for %s: %v", name, hash, err)
		return
	}
	m, err := decodeResult(e.Value())
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if m.Error == "" || !strings.Contains(m.Error, want) || strings.Contains(m.Error, "\n") || len(m.Files) != 0 {
		t.Errorf("%s: stored error %q, want one line with %q", name, m.Error, want)
	}
}

// TestCheckResultFiles checks that only a complete result of the job is
// accepted.
func TestCheckResultFiles(t *testing.T) {
	jobs := loadJobs(t, smallSpec)[:2]
	s := Store{Dir: t.TempDir()}
	if err := RunLocal(context.Background(), s, jobs, LocalOptions{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	j, h := &jobs[0], jobs[0].Hash()
	files, err := readFiles(s.JobDir(h))
	if err != nil {
		t.Fatal(err)
	}
	other, err := readFiles(s.JobDir(jobs[1].Hash()))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkResultFiles(j, h, files); err != nil {
		t.Fatalf("a real result: %v", err)
	}
	editResult := func(f func(map[string]any)) func(map[string][]byte) {
		return func(m map[string][]byte) {
			var r map[string]any
			if err := json.Unmarshal(m[resultFile], &r); err != nil {
				t.Fatal(err)
			}
			f(r)
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			m[resultFile] = data
		}
	}
	for _, tc := range []struct {
		name   string
		change func(map[string][]byte)
		want   string
	}{
		{"no result.json", func(m map[string][]byte) { delete(m, resultFile) }, "no result.json"},
		{"no job.json", func(m map[string][]byte) { delete(m, jobFile) }, "no job.json"},
		{"another job's job.json", func(m map[string][]byte) { m[jobFile] = other[jobFile] }, "is job"},
		{"another job's result", func(m map[string][]byte) { m[resultFile] = other[resultFile] }, "result.json"},
		{"truncated result.json", func(m map[string][]byte) { m[resultFile] = m[resultFile][:len(m[resultFile])/2] }, "result.json"},
		{"no arch", func(m map[string][]byte) { delete(m, "timeloop/arch.yaml") }, "no timeloop/arch.yaml"},
		{"extra file", func(m map[string][]byte) { m["timeloop/evil.sh"] = []byte("#!/bin/sh\n") }, "unexpected file"},
		{"unknown field", editResult(func(r map[string]any) { r["extra"] = 1 }), "unknown field"},
		{"other network", editResult(func(r map[string]any) { r["network"] = "other" }), "not for the job's"},
		{"no layers", editResult(func(r map[string]any) { r["layers"] = []any{} }), "0 layers"},
		{"no totals", editResult(func(r map[string]any) { r["totals"] = map[string]any{} }), "no totals"},
		{"escaping file name", editResult(func(r map[string]any) {
			r["layers"].([]any)[0].(map[string]any)["map_file"] = "timeloop/../../x"
		}), "bad file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := make(map[string][]byte, len(files))
			for k, v := range files {
				m[k] = v
			}
			tc.change(m)
			if err := checkResultFiles(j, h, m); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestForgedResult puts results in the bucket that no worker computed: an
// incomplete one while the coordinator waits (recorded as failed, not
// stored), and a bomb that decompresses beyond the limit.
func TestForgedResult(t *testing.T) {
	jobs := loadJobs(t, smallSpec)[:1]
	h := jobs[0].Hash()
	srv := startServer(t)
	nc, err := Connect(context.Background(), srv.URL(), ClientOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	forged, err := encodeResult(&resultMsg{Version: JobVersion, Hash: h, Worker: "mallory",
		Files: map[string][]byte{resultFile: []byte(`{"tool":"accelopt"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	s := Store{Dir: t.TempDir()}
	err = Coordinate(ctx, nc, s, jobs, CoordinatorOptions{OnEvent: func(ev Event) {
		if ev.Kind == EventInfo && strings.HasPrefix(ev.Err.Error(), "queued") {
			kv, err := js.KeyValue(ctx, DefaultQueue+"_results")
			if err == nil {
				_, err = kv.Put(ctx, h, forged)
			}
			if err != nil {
				t.Error(err)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Done(h) {
		t.Fatal("a forged result was stored")
	}
	msg, ok := s.failure(h)
	if !ok || !strings.Contains(msg, `result rejected (from worker "mallory")`) {
		t.Errorf("failure record %q", msg)
	}

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"version":1,"hash":"` + h + `","error":"`))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for i := 0; i <= maxResultBytes>>20; i++ {
		_, _ = zw.Write(chunk)
	}
	_, _ = zw.Write([]byte(`"}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeResult(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "decompressed") {
		t.Errorf("bomb of %d bytes: %v", buf.Len(), err)
	}
	_, err = decodeResult([]byte("not gzip"))
	if err == nil {
		t.Error("garbage decoded")
	}
}

// TestDefaultLimitsAcceptZoo checks that the default limits refuse no real
// network: every zoo network at batch 1 and 256 passes.
func TestDefaultLimitsAcceptZoo(t *testing.T) {
	for _, name := range workload.ZooNames() {
		for _, batch := range []int{1, 256} {
			net, err := workload.Zoo(name, workload.ZooOptions{Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			j := Job{Version: JobVersion, Network: net.Name, Layers: workload.NetworkRecordOf(net).Layers, Template: "simba",
				Objective: "edp", Starts: 64, Rounds: 200}
			j.Budgets.MaxPowerW = 0.6
			if err := j.Validate(Limits{}); err != nil {
				t.Errorf("%s at batch %d: %v", name, batch, err)
			}
			data, _ := json.Marshal(&j)
			if _, err := decodeJob(data, Limits{}); err != nil {
				t.Errorf("%s at batch %d: %v", name, batch, err)
			}
		}
	}
}

// TestConnectNKeyAndCreds connects with an NKey seed file to a server that
// lists the user's public key, and with a credentials file to a server in
// operator mode (decentralized JWT auth) whose account has JetStream, and
// opens the queue; without them, or with another user's, it is refused.
func TestConnectNKeyAndCreds(t *testing.T) {
	dir := t.TempDir()
	mustKP := func(f func() (nkeys.KeyPair, error)) nkeys.KeyPair {
		kp, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	seedFile := func(name string, kp nkeys.KeyPair) string {
		seed, err := kp.Seed()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(seed, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := func(kp nkeys.KeyPair) string {
		p, err := kp.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(o *server.Options) string {
		o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", server.RANDOM_PORT, true, true
		o.JetStream, o.StoreDir = true, filepath.Join(t.TempDir(), "js")
		ns, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("server not ready")
		}
		return ns.ClientURL()
	}
	user, stranger := mustKP(nkeys.CreateUser), mustKP(nkeys.CreateUser)
	nkeyURL := start(&server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub(user)}}})

	op, acct := mustKP(nkeys.CreateOperator), mustKP(nkeys.CreateAccount)
	oc := jwt.NewOperatorClaims(pub(op))
	opJWT, err := oc.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	opClaims, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		t.Fatal(err)
	}
	ac := jwt.NewAccountClaims(pub(acct))
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	acJWT, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	// Operator mode wants a system account.
	sys := mustKP(nkeys.CreateAccount)
	sysJWT, err := jwt.NewAccountClaims(pub(sys)).Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	res := &server.MemAccResolver{}
	for _, a := range [][2]string{{pub(acct), acJWT}, {pub(sys), sysJWT}} {
		if err := res.Store(a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	credsFile := func(name string, kp nkeys.KeyPair) string {
		uc := jwt.NewUserClaims(pub(kp))
		uc.IssuerAccount = pub(acct)
		uJWT, err := uc.Encode(acct)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := kp.Seed()
		if err != nil {
			t.Fatal(err)
		}
		data, err := jwt.FormatUserConfig(uJWT, seed)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	credsURL := start(&server.Options{TrustedOperators: []*jwt.OperatorClaims{opClaims}, AccountResolver: res, SystemAccount: pub(sys)})
	// A user signed by an account the server does not know.
	otherAcct := mustKP(nkeys.CreateAccount)
	uc := jwt.NewUserClaims(pub(stranger))
	strangerJWT, err := uc.Encode(otherAcct)
	if err != nil {
		t.Fatal(err)
	}
	strangerSeed, _ := stranger.Seed()
	strangerCredsData, err := jwt.FormatUserConfig(strangerJWT, strangerSeed)
	if err != nil {
		t.Fatal(err)
	}
	strangerCreds := filepath.Join(dir, "stranger.creds")
	if err := os.WriteFile(strangerCreds, strangerCredsData, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, url string
		o         ClientOptions
		want      string // "" when the connection must work
	}{
		{"nkey", nkeyURL, ClientOptions{NKeyFile: seedFile("user.nk", user)}, ""},
		{"no nkey", nkeyURL, ClientOptions{}, "authorization violation: the server requires credentials"},
		{"other nkey", nkeyURL, ClientOptions{NKeyFile: seedFile("stranger.nk", stranger)}, "authorization violation: the server refused NKey seed file"},
		{"creds", credsURL, ClientOptions{CredsFile: credsFile("user.creds", user)}, ""},
		{"no creds", credsURL, ClientOptions{}, "authorization violation"},
		{"creds of an unknown account", credsURL, ClientOptions{CredsFile: strangerCreds}, "authorization violation: the server refused credentials file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := Connect(context.Background(), tc.url, tc.o)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %v, want one line with %q", err, tc.want)
				}
				if err == nil {
					nc.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := namesOf("")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, _, err := openQueue(ctx, js, n, 0); err != nil {
				t.Errorf("opening the queue: %v", err)
			}
		})
	}
}

// TestReconnectRefused restarts a worker's server with another token: the
// worker stops with an error instead of retrying forever.
func TestReconnectRefused(t *testing.T) {
	srv, err := StartServer(ServerOptions{Addr: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "a"), Token: "first"})
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + itoa(srv.Port())
	var mu sync.Mutex
	var asyncErrs []string
	nc, err := Connect(context.Background(), "nats://"+addr, ClientOptions{Token: "first", OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		asyncErrs = append(asyncErrs, err.Error())
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Work(ctx, nc, WorkerOptions{Concurrency: 1}) }()
	time.Sleep(300 * time.Millisecond)
	srv.Shutdown()
	again, err := StartServer(ServerOptions{Addr: addr, StoreDir: filepath.Join(t.TempDir(), "b"), Token: "second"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "connection closed") {
			t.Errorf("Work returned %v, want a closed connection", err)
		}
	case <-ctx.Done():
		t.Fatal("the worker still runs 30 s after its server changed its token")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asyncErrs) == 0 || !strings.Contains(strings.Join(asyncErrs, "\n"), "authorization violation") {
		t.Errorf("errors reported: %q", asyncErrs)
	}
}
