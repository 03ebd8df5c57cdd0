package notify

import "context"

// DeliveryObserver is told about every message a provider delivered (err nil) or gave up
// on after its retries (err set); a summary counts as one message. Metrics use it.
type DeliveryObserver func(provider string, err error)

// WithDeliveryObserver reports each delivery of the Router to fn.
func WithDeliveryObserver(fn DeliveryObserver) Option { return func(r *Router) { r.observe = fn } }

func (r *Router) observed(provider string, err error) {
	if r.observe != nil {
		r.observe(provider, err)
	}
}

// Observed wraps a Notifier used outside a Router, so fn sees its deliveries as provider's.
func Observed(provider string, n Notifier, fn DeliveryObserver) Notifier {
	return observedNotifier{provider: provider, n: n, fn: fn}
}

type observedNotifier struct {
	provider string
	n        Notifier
	fn       DeliveryObserver
}

// Notify implements Notifier.
func (o observedNotifier) Notify(ctx context.Context, e Event) error {
	err := o.n.Notify(ctx, e)
	if o.fn != nil {
		o.fn(o.provider, err)
	}
	return err
}
