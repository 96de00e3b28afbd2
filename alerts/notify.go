package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// Notification statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is one message about an alert.
type Notification struct {
	AlertID int64 // 0 when the database could not record the alert
	Kind    Kind
	Status  string // StatusFiring or StatusResolved
	Repeat  bool   // a reminder of an alert already firing
	Message string
	Since   time.Time // when it started firing
	Time    time.Time
	Server  string
}

// Channel delivers notifications somewhere (a webhook, mail).
type Channel interface {
	Name() string
	Send(ctx context.Context, n Notification) error
}

// Defaults of NotifierOptions.
const (
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultMaxAttempts    = 10
	queueSize             = 256
	sendTimeout           = 30 * time.Second
)

// NotifierOptions tune the retries.
type NotifierOptions struct {
	InitialBackoff time.Duration // doubled after each failed attempt...
	MaxBackoff     time.Duration // ...up to this
	MaxAttempts    int
}

// Notifier delivers notifications through each channel from a queue of its
// own, in order, retrying with exponential backoff: a slow or failing channel
// delays neither the other channels nor anything else. Each alert's delivery
// status is written to its row, for the console.
type Notifier struct {
	db     *store.DB
	opts   NotifierOptions
	queues []*queue
	log    *slog.Logger

	mu     sync.Mutex
	status map[int64]map[string]string // alert id → channel → its last status line
}

type queue struct {
	ch Channel
	in chan Notification
}

// NewNotifier returns a notifier over channels; Run starts delivering.
func NewNotifier(db *store.DB, opts NotifierOptions, log *slog.Logger, channels ...Channel) *Notifier {
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	n := &Notifier{db: db, opts: opts, log: log, status: map[int64]map[string]string{}}
	for _, c := range channels {
		n.queues = append(n.queues, &queue{ch: c, in: make(chan Notification, queueSize)})
	}
	return n
}

// Channels names the channels notifications go to (nil-safe).
func (n *Notifier) Channels() []string {
	if n == nil {
		return nil
	}
	out := make([]string, len(n.queues))
	for i, q := range n.queues {
		out[i] = q.ch.Name()
	}
	return out
}

// Enqueue queues x on every channel without waiting; a full queue drops x
// (logged, and shown as the alert's delivery status).
func (n *Notifier) Enqueue(x Notification) {
	for _, q := range n.queues {
		select {
		case q.in <- x:
		default:
			n.log.Error("alerts: notification queue full; notification dropped", "channel", q.ch.Name(), "alert", x.Kind)
			n.record(x, q.ch.Name(), "dropped, the queue is full")
		}
	}
}

// Run delivers until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range n.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case x := <-q.in:
					n.deliver(ctx, q.ch, x)
				}
			}
		}()
	}
	wg.Wait()
}

// deliver sends x through ch, retrying with exponential backoff.
func (n *Notifier) deliver(ctx context.Context, ch Channel, x Notification) {
	backoff := n.opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err := ch.Send(sctx, x)
		cancel()
		now := time.Now().UTC().Format(time.RFC3339)
		if err == nil {
			n.record(x, ch.Name(), fmt.Sprintf("%s delivered at %s", x.Status, now))
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= n.opts.MaxAttempts {
			n.log.Error("alerts: delivery failed; giving up", "channel", ch.Name(), "alert", x.Kind, "attempts", attempt, "error", err)
			n.record(x, ch.Name(), fmt.Sprintf("%s NOT delivered: gave up after %d attempts at %s: %v", x.Status, attempt, now, err))
			return
		}
		n.log.Warn("alerts: delivery failed; retrying", "channel", ch.Name(), "alert", x.Kind, "attempt", attempt, "retry_in", backoff, "error", err)
		n.record(x, ch.Name(), fmt.Sprintf("%s: attempt %d failed at %s, retrying in %s: %v", x.Status, attempt, now, backoff, err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, n.opts.MaxBackoff)
	}
}

// record writes channel's status line into the alert's delivery status.
func (n *Notifier) record(x Notification, channel, line string) {
	if x.AlertID == 0 {
		return
	}
	n.mu.Lock()
	lines := n.status[x.AlertID]
	if lines == nil {
		lines = map[string]string{}
		n.status[x.AlertID] = lines
	}
	lines[channel] = line
	names := make([]string, 0, len(lines))
	for name := range lines {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(name + ": " + lines[name])
	}
	if len(n.status) > 1000 { // the table keeps the status; memory need not
		clear(n.status)
	}
	n.mu.Unlock()
	err := n.db.Tx(context.Background(), func(tx *store.Tx) error {
		return store.SetAlertDelivery(tx, x.AlertID, b.String(), time.Now())
	})
	if err != nil {
		n.log.Warn("alerts: recording the delivery status failed", "alert", x.Kind, "error", err)
	}
}
