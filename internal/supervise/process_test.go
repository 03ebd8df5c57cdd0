package supervise

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestProcess(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		stop     bool   // stop it rather than wait for its end
		wantLog  string // the log once it ended
		wantCode int    // exit code, -1 for killed by a signal
	}{
		{name: "exits with its environment", spec: Spec{Path: "/bin/sh", Args: []string{"-c", "echo $GREETING; exit 3"}, Env: []string{"GREETING=hello"}},
			wantLog: "hello\n", wantCode: 3},
		{name: "stubborn child stopped", spec: Spec{Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; echo up; sleep 60 & wait"}},
			stop: true, wantLog: "up\n", wantCode: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "child.log")
			log, err := os.Create(logPath)
			if err != nil {
				t.Fatal(err)
			}
			tc.spec.Name = "child"
			p, err := Start(tc.spec, log)
			if err != nil {
				t.Fatal(err)
			}
			if tc.stop {
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if data, _ := os.ReadFile(logPath); string(data) == tc.wantLog {
						break
					}
				}
				if done, _ := p.Exited(); done {
					t.Fatal("exited before Stop")
				}
				pid := p.Pid()
				began := time.Now()
				p.Stop(300 * time.Millisecond)
				if took := time.Since(began); took > 3*time.Second {
					t.Fatalf("stop took %s", took)
				}
				alive := groupAlive(pid)
				for end := time.Now().Add(time.Second); len(alive) > 0 && time.Now().Before(end); alive = groupAlive(pid) {
					time.Sleep(20 * time.Millisecond)
				}
				if len(alive) > 0 {
					t.Fatalf("process group %d still has live processes after Stop: %v", pid, alive)
				}
			}
			select {
			case <-p.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the child did not end")
			}
			done, err := p.Exited()
			var exit *exec.ExitError
			if !done || !errors.As(err, &exit) || exit.ExitCode() != tc.wantCode {
				t.Fatalf("Exited() = %v, %v; want exit code %d", done, err, tc.wantCode)
			}
			if err := log.Close(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("the log was not closed when the child ended: %v", err)
			}
			if data, _ := os.ReadFile(logPath); string(data) != tc.wantLog {
				t.Errorf("log %q, want %q", data, tc.wantLog)
			}
		})
	}
}

func TestProcessStartFails(t *testing.T) {
	log, err := os.Create(filepath.Join(t.TempDir(), "missing.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Spec{Name: "missing", Path: "/nonexistent/etcd"}, log); err == nil {
		t.Fatal("no error for a missing binary")
	}
	if err := log.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the log was not closed after the failed start: %v", err)
	}
}
