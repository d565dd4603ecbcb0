package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accelopt/accelopt/workload"
)

// smallCSV is a two-layer network on which a low-effort job takes tens of
// milliseconds.
const smallCSV = "name,C,M,P,Q,R,S\na,16,32,14,14,3,3\nb,32,32,7,7,1,1\n"

// writeSpec writes a network file and a spec into a fresh folder and returns
// the spec's path.
func writeSpec(t *testing.T, spec string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "nets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nets", "small.csv"), []byte(smallCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// smallSpec has 12 jobs of tens of milliseconds each.
const smallSpec = `
networks: [nets/small.csv]
templates: [eyeriss, simba]
objectives: [latency, edp]
budgets:
  max_power_w: [0, 0.05]
  max_area_mm2: [0]
seeds: [1, 2, 3]
starts: 1
rounds: 1
`

func loadJobs(t *testing.T, spec string) []Job {
	t.Helper()
	s, err := ReadSpec(writeSpec(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Jobs()
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func TestReadSpec(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		jobs       int    // when the spec is good
		err        string // substring of the error otherwise
	}{
		{"defaults", "networks: [nets/small.csv]\n", 1, ""},
		{"cross product", smallSpec, 24, ""},
		{"zoo and file", "networks: [alexnet, nets/small.csv]\nseeds: [1, 2]\n", 4, ""},
		{"empty", "", 0, "empty document"},
		{"no networks", "templates: [eyeriss]\n", 0, "field networks: missing"},
		{"unknown field", "networks: [nets/small.csv]\nseed: [1]\n", 0, "field seed not found"},
		{"fractional seed", "networks: [nets/small.csv]\nseeds: [1, 0.5]\n", 0, "line 2: field seeds[1]: \"0.5\" is not a non-negative whole number"},
		{"negative budget", "networks: [nets/small.csv]\nbudgets: {max_power_w: [-1]}\n", 0, "field budgets.max_power_w[0]"},
		{"bad template", "networks: [nets/small.csv]\ntemplates: [tpu]\n", 0, "line 2: field templates[0]"},
		{"bad objective", "networks: [nets/small.csv]\nobjectives: [speed]\n", 0, "field objectives[0]"},
		{"duplicate seed", "networks: [nets/small.csv]\nseeds: [3, 3]\n", 0, "field seeds[1]: 3 is listed twice"},
		{"fractional rounds", "networks: [nets/small.csv]\nrounds: 1.5\n", 0, "field rounds"},
		{"list for scalar", "networks: [nets/small.csv]\nstarts: [1]\n", 0, "field starts"},
		{"missing network file", "networks: [nets/nope.csv]\n", 0, "field networks[0]"},
		{"bad network file", "networks: [spec.yaml]\n", 0, "field networks[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeSpec(t, tc.spec)
			s, err := ReadSpec(p)
			var jobs []Job
			if err == nil {
				jobs, err = s.Jobs()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, p, tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != tc.jobs {
				t.Errorf("%d jobs, want %d", len(jobs), tc.jobs)
			}
		})
	}
}

// TestJobHash checks that a job's hash follows its inputs and nothing else.
func TestJobHash(t *testing.T) {
	jobs := loadJobs(t, smallSpec)
	seen := map[string]bool{}
	for i := range jobs {
		h := jobs[i].Hash()
		if len(h) != 16 || seen[h] {
			t.Fatalf("job %d: hash %q (length 16, distinct wanted)", i, h)
		}
		seen[h] = true
	}
	j := jobs[0]
	h := j.Hash()
	j.Source = "/somewhere/else.csv"
	if j.Hash() != h {
		t.Error("the hash depends on where the network file is")
	}
	for name, change := range map[string]func(*Job){
		"seed":     func(j *Job) { j.Seed++ },
		"rounds":   func(j *Job) { j.Rounds++ },
		"starts":   func(j *Job) { j.Starts++ },
		"budget":   func(j *Job) { j.Budgets.MaxAreaMM2 = 2 },
		"layer":    func(j *Job) { j.Layers = append([]workload.LayerRecord(nil), j.Layers...); j.Layers[0].C++ },
		"version":  func(j *Job) { j.Version++ },
		"template": func(j *Job) { j.Template = "simba" },
	} {
		k := jobs[0]
		change(&k)
		if k.Hash() == h {
			t.Errorf("changing the %s keeps the hash", name)
		}
	}
	// The same network under another file name and folder is the same job.
	other := loadJobs(t, strings.Replace(smallSpec, "nets/small.csv", "./nets/../nets/small.csv", 1))
	if other[0].Hash() != h {
		t.Error("the hash depends on the spec's spelling of the network path")
	}
}

// TestNetworkRecords checks that a job carries every zoo network exactly.
func TestNetworkRecords(t *testing.T) {
	for _, name := range workload.ZooNames() {
		net, err := workload.Zoo(name, workload.ZooOptions{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		j := Job{Network: net.Name, Layers: workload.NetworkRecordOf(net).Layers}
		back, err := j.network()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back, net) {
			t.Errorf("%s: the job's network differs from the zoo's", name)
		}
	}
}

// eventLog records events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// count returns how often each hash had an event of the kind.
func (l *eventLog) count(kind string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, ev := range l.events {
		if ev.Kind == kind {
			n[ev.Hash]++
		}
	}
	return n
}

// checkSame compares every job's folder in two stores.
func checkSame(t *testing.T, a, b Store, jobs []Job) {
	t.Helper()
	for i := range jobs {
		h := jobs[i].Hash()
		if err := SameResult(a.JobDir(h), b.JobDir(h)); err != nil {
			t.Errorf("job %s (%s): %v", h, jobs[i].Label(), err)
		}
	}
}

// TestRunLocalDeterministic runs the same jobs one at a time and three at a
// time: every result must be the same apart from the runtime.
func TestRunLocalDeterministic(t *testing.T) {
	jobs := loadJobs(t, smallSpec)
	a, b := Store{Dir: t.TempDir()}, Store{Dir: t.TempDir()}
	if err := RunLocal(context.Background(), a, jobs, LocalOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if err := RunLocal(context.Background(), b, jobs, LocalOptions{Workers: 3}); err != nil {
		t.Fatal(err)
	}
	checkSame(t, a, b, jobs)
	sum, err := BuildSummary(a, "spec.yaml", jobs)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Complete || sum.Done != len(jobs) || len(sum.Rows) != len(jobs) {
		t.Fatalf("summary: %d of %d done, complete %v", sum.Done, sum.Jobs, sum.Complete)
	}
	for _, r := range sum.Rows {
		if r.Status != StatusDone || r.LatencyMs <= 0 || r.EnergyUJ <= 0 || r.AreaMM2 <= 0 || r.PowerW <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if err := WriteSummary(a, sum); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSummary(filepath.Join(a.Dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sum) {
		t.Error("sweep.json does not read back")
	}
}

// TestRunLocalResume interrupts a sweep and runs it again: the jobs stored by
// the first run are not run again, and nothing half-written is left.
func TestRunLocalResume(t *testing.T) {
	jobs := loadJobs(t, smallSpec)
	s := Store{Dir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var first eventLog
	err := RunLocal(ctx, s, jobs, LocalOptions{Workers: 2, OnEvent: func(ev Event) {
		first.add(ev)
		if ev.Kind == EventDone && ev.Done == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run returned %v", err)
	}
	var doneBefore []string
	for i := range jobs {
		if h := jobs[i].Hash(); s.Done(h) {
			doneBefore = append(doneBefore, h)
		}
	}
	if len(doneBefore) < 5 || len(doneBefore) >= len(jobs) {
		t.Fatalf("%d jobs stored after the interruption", len(doneBefore))
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir, jobsDir))
	if len(entries) != len(doneBefore) {
		t.Errorf("%d entries in jobs/, %d jobs done: debris left", len(entries), len(doneBefore))
	}
	var second eventLog
	if err := RunLocal(context.Background(), s, jobs, LocalOptions{Workers: 2, OnEvent: second.add}); err != nil {
		t.Fatal(err)
	}
	started := second.count(EventStart)
	for _, h := range doneBefore {
		if started[h] > 0 {
			t.Errorf("job %s was stored by the first run and run again", h)
		}
	}
	if len(started) != len(jobs)-len(doneBefore) {
		t.Errorf("second run started %d jobs, want %d", len(started), len(jobs)-len(doneBefore))
	}
	if len(Pending(s, jobs)) != 0 {
		t.Error("jobs left after the second run")
	}
}

// badJob fails when run: its layer has a zero dimension.
func badJob(jobs []Job) Job {
	j := jobs[0]
	j.Layers = append([]workload.LayerRecord(nil), j.Layers...)
	j.Layers[0].C = 0
	return j
}

// TestRunLocalFailure records a failing job in sweep.json and retries it.
func TestRunLocalFailure(t *testing.T) {
	jobs := loadJobs(t, smallSpec)[:2]
	jobs = append(jobs, badJob(jobs))
	s := Store{Dir: t.TempDir()}
	var log eventLog
	if err := RunLocal(context.Background(), s, jobs, LocalOptions{Workers: 2, OnEvent: log.add}); err != nil {
		t.Fatal(err)
	}
	sum, err := BuildSummary(s, "", jobs)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 2 || sum.Failed != 1 || sum.Rows[2].Status != StatusFailed || !strings.Contains(sum.Rows[2].Error, "C") {
		t.Fatalf("summary %+v", sum)
	}
	var again eventLog
	if err := RunLocal(context.Background(), s, jobs, LocalOptions{OnEvent: again.add}); err != nil {
		t.Fatal(err)
	}
	if n := again.count(EventStart); len(n) != 1 || n[jobs[2].Hash()] != 1 {
		t.Errorf("rerun started %v, want only the failed job", n)
	}
}

// startServer starts an embedded server on a free loopback port.
func startServer(t *testing.T) *Server {
	t.Helper()
	srv, err := StartServer(ServerOptions{Addr: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// TestCoordinate runs a sweep through an embedded server with in-process
// workers; the results equal those of a local run. A second coordinator on a
// fresh folder then collects every result from the bucket without running
// any job, and a failing job is reported as failed.
func TestCoordinate(t *testing.T) {
	jobs := loadJobs(t, smallSpec)
	ref := Store{Dir: t.TempDir()}
	if err := RunLocal(context.Background(), ref, jobs, LocalOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t)
	nc, err := Connect(context.Background(), srv.URL(), ClientOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	s := Store{Dir: t.TempDir()}
	var log eventLog
	if err := Coordinate(ctx, nc, s, jobs, CoordinatorOptions{Workers: 2, AckWait: 5 * time.Second, Poll: 100 * time.Millisecond, OnEvent: log.add}); err != nil {
		t.Fatal(err)
	}
	checkSame(t, ref, s, jobs)
	if n := log.count(EventDone); len(n) != len(jobs) {
		t.Errorf("%d jobs collected, want %d", len(n), len(jobs))
	}

	s2 := Store{Dir: t.TempDir()}
	var wlog eventLog
	wctx, stopWorker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := Work(wctx, nc, WorkerOptions{Concurrency: 1, OnEvent: wlog.add}); err != nil {
			t.Error(err)
		}
	}()
	all := append(append([]Job(nil), jobs...), badJob(jobs))
	err = Coordinate(ctx, nc, s2, all, CoordinatorOptions{})
	stopWorker()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	// The new job is refused before it runs (a zero dimension); the others
	// come from the bucket.
	if n := wlog.count(EventStart); len(n) != 0 {
		t.Errorf("the worker ran %d jobs for the second coordinator, want none: %v", len(n), n)
	}
	if n := wlog.count(EventFailed); len(n) != 1 || n[all[len(all)-1].Hash()] != 1 {
		t.Errorf("the worker reported failures %v, want only the new, bad job", n)
	}
	checkSame(t, ref, s2, jobs)
	sum, err := BuildSummary(s2, "", all)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != len(jobs) || sum.Failed != 1 {
		t.Errorf("summary: %d done, %d failed", sum.Done, sum.Failed)
	}
}

// TestCoordinateRestart stops a coordinator whose workers are elsewhere, lets
// the workers finish, and starts it again: it collects everything without a
// job being run twice.
func TestCoordinateRestart(t *testing.T) {
	jobs := loadJobs(t, smallSpec)
	srv := startServer(t)
	nc, err := Connect(context.Background(), srv.URL(), ClientOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := Store{Dir: t.TempDir()}

	// The first coordinator queues the jobs and stops after two results. A
	// job delivered to its worker's pending fetch as it stops is delivered
	// again only after the consumer's AckWait: short here, and shorter than
	// the separate worker's IdleExit below, so that worker gets it (with the
	// default 30 s, the second coordinator waited for it until its timeout
	// in one CI run, 21 of 22 jobs collected).
	const ackWait = 2 * time.Second
	ctx1, stop1 := context.WithCancel(context.Background())
	defer stop1()
	err = Coordinate(ctx1, nc, s, jobs, CoordinatorOptions{Workers: 1, AckWait: ackWait, OnEvent: func(ev Event) {
		if ev.Kind == EventDone && ev.Total > 0 && ev.Done == 2 {
			stop1()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first coordinator: %v", err)
	}
	storedBefore := map[string]bool{}
	for i := range jobs {
		if h := jobs[i].Hash(); s.Done(h) {
			storedBefore[h] = true
		}
	}
	stored := len(storedBefore)
	if stored < 2 {
		t.Fatalf("%d results stored", stored)
	}
	// A separate worker runs the queue dry while no coordinator runs.
	var wlog eventLog
	wctx, stopW := context.WithTimeout(context.Background(), 180*time.Second)
	defer stopW()
	if err := Work(wctx, nc, WorkerOptions{Concurrency: 2, IdleExit: ackWait + 1500*time.Millisecond, OnEvent: wlog.add}); err != nil {
		t.Fatal(err)
	}
	// The second coordinator only collects.
	var clog eventLog
	ctx2, stop2 := context.WithTimeout(context.Background(), 180*time.Second)
	defer stop2()
	if err := Coordinate(ctx2, nc, s, jobs, CoordinatorOptions{AckWait: ackWait, OnEvent: clog.add}); err != nil {
		t.Fatal(err)
	}
	if len(Pending(s, jobs)) != 0 {
		t.Fatal("jobs missing after the second coordinator")
	}
	if n := len(clog.count(EventDone)); n != len(jobs)-stored {
		t.Errorf("second coordinator collected %d, want %d", n, len(jobs)-stored)
	}
	for h, n := range wlog.count(EventStart) {
		if n > 1 || storedBefore[h] {
			t.Errorf("job %s run %d times by the worker (stored before: %v)", h, n, storedBefore[h])
		}
	}
}
