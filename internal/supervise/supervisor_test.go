package supervise

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSupervisorRestartsAndStops(t *testing.T) {
	out := &syncBuffer{}
	s := NewSupervisor(logr.Discard(), out)
	if err := s.Start(Spec{Name: "dies", Path: "/bin/sh", Args: []string{"-c", "echo started; exit 3"}}); err != nil {
		t.Fatal(err)
	}
	// A child that ignores SIGTERM and has a grandchild: Stop must SIGKILL the group.
	if err := s.Start(Spec{Name: "stubborn", Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; sleep 60 & wait"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for (s.Restarts()["dies"] < 2 || strings.Count(out.String(), "[dies] started\n") < 3) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.Restarts()["dies"]; n < 2 {
		t.Fatalf("restarts %d, want at least 2", n)
	}
	if strings.Count(out.String(), "[dies] started\n") < 3 {
		t.Fatalf("output %q", out.String())
	}
	pid := s.PIDs()["stubborn"]
	began := time.Now()
	s.Stop(500 * time.Millisecond)
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("stop took %s", took)
	}
	alive := groupAlive(pid)
	for end := time.Now().Add(time.Second); len(alive) > 0 && time.Now().Before(end); alive = groupAlive(pid) {
		time.Sleep(20 * time.Millisecond) // a SIGKILLed process takes a moment to go
	}
	if len(alive) > 0 {
		t.Fatalf("process group %d still has live processes after Stop: %v", pid, alive)
	}
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	if err := s.Start(Spec{Name: "late", Path: "/bin/true"}); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}

func TestSupervisorStartFails(t *testing.T) {
	s := NewSupervisor(logr.Discard(), &syncBuffer{})
	defer s.Stop(time.Second)
	if err := s.Start(Spec{Name: "missing", Path: "/nonexistent/kube-apiserver"}); err == nil {
		t.Fatal("no error for a missing binary")
	}
}

// groupAlive lists the processes of a process group that are not zombies, from /proc.
func groupAlive(pgid int) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			out = append(out, e.Name()+" "+fields[0])
		}
	}
	return out
}
