package bench

import (
	"os"
	"testing"
)

func TestTopCPU(t *testing.T) {
	before := map[string]float64{"etcd": 10, "kube-apiserver": 5, "kube-apiserver (pod)": 1, "idle": 3}
	after := map[string]float64{"etcd": 12, "kube-apiserver": 9, "kube-apiserver (pod)": 4, "idle": 3, "new": 0.5}
	want := "total 9.5 s: kube-apiserver 4.0, kube-apiserver (pod) 3.0"
	if got := topCPU(before, after, 2); got != want {
		t.Errorf("topCPU = %q, want %q", got, want)
	}
}

func TestMachineCPUNamesThisProcess(t *testing.T) {
	name := processName(os.Getpid())
	if name == "" {
		t.Fatal("no name for this process")
	}
	if _, ok := machineCPU()[name]; !ok {
		t.Errorf("machineCPU has no %q", name)
	}
}
