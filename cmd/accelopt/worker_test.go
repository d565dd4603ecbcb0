package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/accelopt/accelopt/sweep"
)

// buildAccelopt builds the command into a temporary folder.
func buildAccelopt(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "accelopt")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a running accelopt subprocess whose stderr lines are collected.
type proc struct {
	name  string
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan string // every line, for those who wait on one
	done  chan struct{}
	err   error
}

func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, nil, bin, args...)
}

// startProcEnv starts a process with extra environment variables.
func startProcEnv(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), seen: make(chan string, 1000), done: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.seen <- sc.Text():
			default:
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop asks the process to stop (SIGTERM) and waits; after the timeout it is
// killed.
func (p *proc) stop(timeout time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}

// wait waits for the process to end and returns its error.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.kill()
		t.Fatalf("%s still running after %s; stderr:\n%s", p.name, timeout, p.log())
		return nil
	}
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

var workerLineRE = regexp.MustCompile(`^accelopt worker: (start|done) ([0-9a-f]{16})`)

// runs counts the start and done lines per job hash in worker logs.
func runs(ps ...*proc) (starts, dones map[string]int) {
	starts, dones = map[string]int{}, map[string]int{}
	for _, p := range ps {
		for _, l := range strings.Split(p.log(), "\n") {
			if m := workerLineRE.FindStringSubmatch(l); m != nil {
				if m[1] == "start" {
					starts[m[2]]++
				} else {
					dones[m[2]]++
				}
			}
		}
	}
	return starts, dones
}

// checkSweepOutput checks that sweep.json has every job exactly once, done,
// and that each result equals the reference run's.
func checkSweepOutput(t *testing.T, out, ref string, jobs int) {
	t.Helper()
	sum, err := sweep.ReadSummary(filepath.Join(out, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Rows) != jobs || sum.Done != jobs || !sum.Complete {
		t.Fatalf("sweep.json: %d rows, %d done, want %d", len(sum.Rows), sum.Done, jobs)
	}
	seen := map[string]bool{}
	for _, r := range sum.Rows {
		if seen[r.Hash] || r.Status != sweep.StatusDone {
			t.Errorf("row %s: status %s, seen before %v", r.Hash, r.Status, seen[r.Hash])
		}
		seen[r.Hash] = true
		if err := sweep.SameResult(filepath.Join(ref, "jobs", r.Hash), filepath.Join(out, "jobs", r.Hash)); err != nil {
			t.Errorf("job %s differs from the local run: %v", r.Hash, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(out, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != jobs {
		t.Errorf("%d entries in jobs/, want %d", len(entries), jobs)
	}
}

// TestSweepDistributed is the acceptance test of the NATS mode: a 24-job sweep
// on an embedded server with two worker processes, (1) with one worker killed
// mid-job and (2) with the coordinator killed and restarted mid-sweep. Every
// result must arrive exactly once and equal the local run's.
func TestSweepDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs worker processes")
	}
	bin := buildAccelopt(t)
	spec := writeSweepSpec(t, sweepSpec24)
	ref := t.TempDir()
	t0 := time.Now()
	runOK(t, "sweep", spec, "--out", ref, "--quiet")
	t.Logf("local reference run: %.1f s", time.Since(t0).Seconds())
	const jobs = 24

	t.Run("kill a worker", func(t *testing.T) {
		addr := freeAddr(t)
		out := t.TempDir()
		var cout, cerr bytes.Buffer
		status := make(chan int, 1)
		t0 := time.Now()
		go func() {
			status <- run([]string{"sweep", spec, "--embedded-nats", addr, "--ack-wait", "2s", "--out", out, "--quiet"}, &cout, &cerr)
		}()
		url := "nats://" + addr
		a := startProc(t, "worker A", bin, "worker", "--nats", url, "--concurrency", "1")
		// B runs on one thread: results must not depend on it.
		b := startProcEnv(t, "worker B", []string{"GOMAXPROCS=1"}, bin, "worker", "--nats", url, "--concurrency", "1")
		// Kill A as soon as it starts its second job.
		var victim string
		for n := 0; victim == ""; {
			select {
			case l := <-a.seen:
				if m := workerLineRE.FindStringSubmatch(l); m != nil && m[1] == "start" {
					if n++; n == 2 {
						victim = m[2]
						a.kill()
					}
				}
			case <-a.done:
				t.Fatalf("worker A ended: %v\n%s", a.err, a.log())
			case <-time.After(60 * time.Second):
				t.Fatalf("worker A started no second job:\n%s", a.log())
			}
		}
		select {
		case st := <-status:
			if st != 0 {
				t.Fatalf("sweep: status %d: %s", st, cerr.String())
			}
		case <-time.After(90 * time.Second):
			t.Fatalf("sweep not finished after 90 s; worker B:\n%s", b.log())
		}
		wall := time.Since(t0)
		b.stop(10 * time.Second)
		if strings.Contains(a.log(), "done "+victim) {
			t.Fatalf("worker A finished job %s before it was killed; the kill did not land mid-job", victim)
		}
		startsB, _ := runs(b)
		if startsB[victim] == 0 {
			t.Errorf("the killed job %s was not run again by worker B", victim)
		}
		checkSweepOutput(t, out, ref, jobs)
		starts, dones := runs(a, b)
		total := 0
		for _, n := range starts {
			total += n
		}
		t.Logf("24 jobs in %.1f s; killed worker A mid-job %s; job runs started %d, finished %d; worker B redelivery: %q",
			wall.Seconds(), victim, total, len(dones), grepLine(b.log(), "start "+victim))
	})

	t.Run("restart the coordinator", func(t *testing.T) {
		addr := freeAddr(t)
		out := t.TempDir()
		args := []string{"sweep", spec, "--embedded-nats", addr, "--ack-wait", "2s", "--out", out, "--quiet"}
		coord := startProc(t, "coordinator", bin, args...)
		url := "nats://" + addr
		a := startProc(t, "worker A", bin, "worker", "--nats", url, "--concurrency", "1")
		b := startProc(t, "worker B", bin, "worker", "--nats", url, "--concurrency", "1")
		// Kill the coordinator (and its embedded server) once 8 results are
		// stored.
		var before map[string][]byte
		deadline := time.Now().Add(60 * time.Second)
		for {
			before = storedResults(t, out)
			if len(before) >= 8 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d results after 60 s; worker A:\n%s", len(before), a.log())
			}
			time.Sleep(20 * time.Millisecond)
		}
		coord.kill()
		before = storedResults(t, out) // what the killed coordinator left
		if len(before) >= jobs {
			t.Fatalf("the coordinator finished before it was killed")
		}
		time.Sleep(500 * time.Millisecond) // the workers go on without it
		coord2 := startProc(t, "coordinator (restarted)", bin, args...)
		if err := coord2.wait(t, 90*time.Second); err != nil {
			t.Fatalf("restarted coordinator: %v\n%s", err, coord2.log())
		}
		a.stop(10 * time.Second)
		b.stop(10 * time.Second)
		checkSweepOutput(t, out, ref, jobs)
		starts, _ := runs(a, b)
		total := 0
		for h, n := range starts {
			total += n
			if _, ok := before[h]; ok && n != 1 {
				t.Errorf("job %s was stored before the restart and started %d times", h, n)
			}
		}
		for h, data := range before {
			now, err := os.ReadFile(filepath.Join(out, "jobs", h, "result.json"))
			if err != nil || !bytes.Equal(now, data) {
				t.Errorf("job %s: result.json changed after the restart (%v)", h, err)
			}
		}
		// Only jobs running when the coordinator died may run twice.
		if total > jobs+2 {
			t.Errorf("%d job runs for %d jobs", total, jobs)
		}
		t.Logf("coordinator killed with %d of %d results stored; after the restart: %d job runs in all, none of the stored ones again",
			len(before), jobs, total)
	})
}

// storedResults reads every stored result.json of a sweep folder by hash.
func storedResults(t *testing.T, out string) map[string][]byte {
	t.Helper()
	res := map[string][]byte{}
	entries, _ := os.ReadDir(filepath.Join(out, "jobs"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a result being written
		}
		if data, err := os.ReadFile(filepath.Join(out, "jobs", e.Name(), "result.json")); err == nil {
			res[e.Name()] = data
		}
	}
	return res
}

// grepLine returns the first line of s containing sub.
func grepLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return fmt.Sprintf("(no line with %q)", sub)
}

// writeTestPKI writes a CA (ca.pem), a server certificate for 127.0.0.1
// (server.pem, server.key) and a client certificate (client.pem,
// client.key) made for the test into dir.
func writeTestPKI(t *testing.T, dir string) {
	t.Helper()
	now := time.Now()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey, srvKey, cliKey := key(), key(), key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accelopt test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cliTmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "worker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	cliDER, err := x509.CreateCertificate(rand.Reader, cliTmpl, caTmpl, &cliKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", srvDER)
	write("client.pem", "CERTIFICATE", cliDER)
	for name, k := range map[string]*ecdsa.PrivateKey{"server.key": srvKey, "client.key": cliKey} {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "EC PRIVATE KEY", der)
	}
}

// waitFor polls cond every 20 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// TestSweepSecure runs a 4-job sweep on embedded servers that require
// authentication: (1) on every interface without credentials, where the
// coordinator makes up a token; (2) on 127.0.0.1 with TLS and a token from
// NATS_TOKEN; (3) on 127.0.0.1 with TLS and client certificates. A worker
// without the token (or the CA, or a client certificate) is refused
// with a one-line error and exit status 1; one with them runs the sweep,
// whose results equal a local run's. Everything runs in this process.
func TestSweepSecure(t *testing.T) {
	spec := writeSweepSpec(t, "networks: [net.csv]\ntemplates: [eyeriss, simba]\nseeds: [1, 2]\nstarts: 1\nrounds: 1\n")
	ref := t.TempDir()
	runOK(t, "sweep", spec, "--out", ref, "--quiet")
	pki := t.TempDir()
	writeTestPKI(t, pki)
	for _, tc := range []struct {
		name      string
		host      string
		coordEnv  string // NATS_TOKEN of the coordinator
		coordArgs []string
		scheme    string
		badArgs   []string // a worker that is refused
		badEnv    string   // its NATS_TOKEN
		badWant   string
		goodArgs  []string
	}{
		{name: "generated token", host: "0.0.0.0", scheme: "nats",
			badWant: "authorization violation: the server requires credentials and none were given"},
		{name: "tls and token", host: "127.0.0.1", coordEnv: "tls-s3cret", scheme: "tls",
			coordArgs: []string{"--tls-cert", filepath.Join(pki, "server.pem"), "--tls-key", filepath.Join(pki, "server.key")},
			badEnv:    "tls-s3cret", badWant: "bad certificate: the server's certificate was not accepted",
			goodArgs: []string{"--tls-ca", filepath.Join(pki, "ca.pem")}},
		{name: "client certificates", host: "127.0.0.1", scheme: "tls",
			coordArgs: []string{"--tls-cert", filepath.Join(pki, "server.pem"), "--tls-key", filepath.Join(pki, "server.key"),
				"--tls-ca", filepath.Join(pki, "ca.pem")},
			badArgs: []string{"--tls-ca", filepath.Join(pki, "ca.pem")},
			badWant: "bad certificate: the server refused the TLS connection",
			goodArgs: []string{"--tls-ca", filepath.Join(pki, "ca.pem"), "--tls-cert", filepath.Join(pki, "client.pem"),
				"--tls-key", filepath.Join(pki, "client.key")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NATS_USER", "")
			t.Setenv("NATS_PASSWORD", "")
			t.Setenv("NATS_TOKEN", tc.coordEnv)
			port := freeAddr(t)[len("127.0.0.1:"):]
			out := t.TempDir()
			var cout, cerr bytes.Buffer
			status := make(chan int, 1)
			t0 := time.Now()
			args := append([]string{"sweep", spec, "--embedded-nats", tc.host + ":" + port, "--out", out, "--quiet"}, tc.coordArgs...)
			go func() { status <- run(args, &cout, &cerr) }()
			token := tc.coordEnv
			if tc.host == "0.0.0.0" {
				file := filepath.Join(out, ".nats", "token")
				waitFor(t, "the generated token", func() bool {
					data, err := os.ReadFile(file)
					token = strings.TrimSpace(string(data))
					return err == nil && len(token) == 32
				})
			}
			waitFor(t, "the embedded server", func() bool {
				c, err := net.Dial("tcp", "127.0.0.1:"+port)
				if err == nil {
					c.Close()
				}
				return err == nil
			})
			url := tc.scheme + "://127.0.0.1:" + port
			// Refused: exit status 1, one line saying why, no secret.
			t.Setenv("NATS_TOKEN", tc.badEnv)
			var bout, berr bytes.Buffer
			st := run(append([]string{"worker", "--nats", url, "--quiet"}, tc.badArgs...), &bout, &berr)
			msg := berr.String()
			if st != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.badWant) || (token != "" && strings.Contains(msg, token)) {
				t.Fatalf("worker without credentials: status %d, stderr %q; want one line with %q", st, msg, tc.badWant)
			}
			// Accepted: runs every job and stops once the queue is idle.
			t.Setenv("NATS_TOKEN", token)
			var gout, gerr bytes.Buffer
			st = run(append([]string{"worker", "--nats", url, "--concurrency", "2", "--idle-exit", "1s"}, tc.goodArgs...), &gout, &gerr)
			if st != 0 {
				t.Fatalf("worker with credentials: status %d\n%s", st, gerr.String())
			}
			select {
			case st := <-status:
				if st != 0 {
					t.Fatalf("sweep: status %d: %s", st, cerr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("sweep not finished 30 s after its worker stopped; worker:\n%s", gerr.String())
			}
			checkSweepOutput(t, out, ref, 4)
			if tc.host == "0.0.0.0" && !strings.Contains(cerr.String(), "NATS_TOKEN="+token+" accelopt worker --nats nats://<this host>:"+port) {
				t.Errorf("the coordinator does not say how workers pass the token:\n%s", cerr.String())
			}
			if n := strings.Count(gerr.String(), "accelopt worker: done "); n != 4 {
				t.Errorf("the worker finished %d jobs, want 4:\n%s", n, gerr.String())
			}
			t.Logf("%s: 4 jobs in %.1f s; refused worker: %s", tc.name, time.Since(t0).Seconds(), strings.TrimSpace(msg))
		})
	}
}
