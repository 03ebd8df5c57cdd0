package notify

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// observations records DeliveryObserver calls as "provider ok|failed".
type observations struct {
	mu  sync.Mutex
	got []string
}

func (o *observations) observe(provider string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	o.got = append(o.got, provider+" "+outcome)
}

func (o *observations) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.got...)
}

func TestDeliveryObserver(t *testing.T) {
	cases := []struct {
		name     string
		failNext int
		events   int
		want     []string
	}{
		{name: "one delivered event", events: 1, want: []string{"rec ok"}},
		{name: "one failed event", failNext: 1, events: 1, want: []string{"rec failed"}},
		{name: "a burst is one summary message", events: 5, want: []string{"rec ok"}},
		{name: "a failed summary is one failure", failNext: 1, events: 5, want: []string{"rec failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := &observations{}
			r, clk := newTestRouter(t, &recorder{failNext: c.failNext}, WithDeliveryObserver(obs.observe))
			for _, e := range burst(c.events) {
				if err := r.Notify(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(window)
			r.waitIdle(t)
			if got := obs.list(); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("observed %v, want %v", got, c.want)
			}
		})
	}
}

func TestObservedNotifier(t *testing.T) {
	obs := &observations{}
	n := Observed("hook", &recorder{failNext: 1}, obs.observe)
	if err := n.Notify(context.Background(), driftEvent()); err == nil {
		t.Fatal("the first delivery should fail")
	}
	if err := n.Notify(context.Background(), driftEvent()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(obs.list()); got != "[hook failed hook ok]" {
		t.Fatalf("observed %s", got)
	}
}
