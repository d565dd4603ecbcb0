package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Store is a sweep's output folder:
//
//	DIR/jobs/<hash>/job.json      the job's inputs
//	DIR/jobs/<hash>/result.json   as `accelopt optimize` writes it
//	DIR/jobs/<hash>/timeloop/     arch, ERT, ART, a problem and a map per layer
//	DIR/failed/<hash>.json        a job that failed (retried on the next run)
//	DIR/sweep.json                one row per job (see Summary)
//
// A job's folder appears whole or not at all: it is written under a temporary
// name and renamed, and the first result stored for a hash wins, so a job run
// twice is stored once. One sweep process at a time may write a Store.
type Store struct {
	Dir string
}

// Folder names inside a Store.
const (
	jobsDir    = "jobs"
	failedDir  = "failed"
	stagingPfx = ".tmp-"
	// SummaryFile is the name of the per-job table in a Store.
	SummaryFile = "sweep.json"
)

// Init creates the folder and removes partial job folders left by a killed
// run.
func (s Store) Init() error {
	jd := filepath.Join(s.Dir, jobsDir)
	if err := os.MkdirAll(jd, 0o755); err != nil {
		return fmt.Errorf("output %s: %w", s.Dir, err)
	}
	entries, err := os.ReadDir(jd)
	if err != nil {
		return fmt.Errorf("output %s: %w", s.Dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPfx) {
			if err := os.RemoveAll(filepath.Join(jd, e.Name())); err != nil {
				return fmt.Errorf("output %s: %w", s.Dir, err)
			}
		}
	}
	return nil
}

// JobDir is the folder of a job's result.
func (s Store) JobDir(hash string) string {
	return filepath.Join(s.Dir, jobsDir, hash)
}

// Done reports whether the job's result is stored.
func (s Store) Done(hash string) bool {
	_, err := os.Stat(filepath.Join(s.JobDir(hash), resultFile))
	return err == nil
}

// stage makes a temporary folder for a job's files, to be committed.
func (s Store) stage(hash string) (string, error) {
	d, err := os.MkdirTemp(filepath.Join(s.Dir, jobsDir), stagingPfx+hash+"-")
	if err != nil {
		return "", fmt.Errorf("output %s: %w", s.Dir, err)
	}
	return d, nil
}

// commit renames a staged folder into place. It reports false, and removes the
// staged folder, when the job was already stored.
func (s Store) commit(hash, staged string) (bool, error) {
	if s.Done(hash) {
		return false, os.RemoveAll(staged)
	}
	dst := s.JobDir(hash)
	// A folder without result.json is debris (it cannot come from commit);
	// clear it so that the rename can succeed.
	if _, err := os.Stat(dst); err == nil {
		if err := os.RemoveAll(dst); err != nil {
			return false, fmt.Errorf("output %s: %w", dst, err)
		}
	}
	if err := os.Rename(staged, dst); err != nil {
		_ = os.RemoveAll(staged)
		if s.Done(hash) {
			return false, nil
		}
		return false, fmt.Errorf("output %s: %w", dst, err)
	}
	s.clearFailure(hash)
	return true, nil
}

// putFiles stores a job's files, given by slash-separated relative path. It
// reports false when the job was already stored.
func (s Store) putFiles(hash string, files map[string][]byte) (bool, error) {
	if _, ok := files[resultFile]; !ok {
		return false, fmt.Errorf("result of job %s has no %s", hash, resultFile)
	}
	if s.Done(hash) {
		return false, nil
	}
	staged, err := s.stage(hash)
	if err != nil {
		return false, err
	}
	for rel, data := range files {
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			_ = os.RemoveAll(staged)
			return false, fmt.Errorf("result of job %s: bad file name %q", hash, rel)
		}
		p := filepath.Join(staged, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			_ = os.RemoveAll(staged)
			return false, fmt.Errorf("output %s: %w", s.Dir, err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			_ = os.RemoveAll(staged)
			return false, fmt.Errorf("output %s: %w", s.Dir, err)
		}
	}
	return s.commit(hash, staged)
}

// failureRecord is DIR/failed/<hash>.json.
type failureRecord struct {
	Hash   string `json:"hash"`
	Error  string `json:"error"`
	Worker string `json:"worker,omitempty"`
	Job    *Job   `json:"job"`
}

// recordFailure notes that a job failed; the next run retries it.
func (s Store) recordFailure(j *Job, hash, msg, worker string) error {
	d := filepath.Join(s.Dir, failedDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("output %s: %w", s.Dir, err)
	}
	return writeJSON(filepath.Join(d, hash+".json"), &failureRecord{Hash: hash, Error: msg, Worker: worker, Job: j})
}

// failure returns a recorded failure's message.
func (s Store) failure(hash string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(s.Dir, failedDir, hash+".json"))
	if err != nil {
		return "", false
	}
	var f failureRecord
	if err := json.Unmarshal(data, &f); err != nil {
		return "unreadable failure record: " + oneLine(err.Error()), true
	}
	return f.Error, true
}

// clearFailure removes a failure record; a stale one would only show in
// sweep.json until the next run, so errors are ignored.
func (s Store) clearFailure(hash string) {
	_ = os.Remove(filepath.Join(s.Dir, failedDir, hash+".json"))
}
