package cluster

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

// Errors callers may branch on.
var (
	// ErrNoKind is wrapped by Decode for a message without a kind.
	ErrNoKind = errors.New("cluster: message has no kind")
	// ErrBadOptions is wrapped by NewAgent and NewCoordinator.
	ErrBadOptions = errors.New("cluster: invalid options")
	// ErrNoAgents is wrapped by Coordinator.Run when too few agents
	// answered in time.
	ErrNoAgents = errors.New("cluster: not enough agents")
)

// DefaultTopic prefixes the two topics: TOPIC.control (coordinator to
// agents) and TOPIC.agents (agents to coordinator).
const DefaultTopic = "kmsload"

// Conn says how to reach nsqd.
type Conn struct {
	// NSQD is an nsqd TCP address, host:port.
	NSQD string
	// Lookupd lists nsqlookupd HTTP addresses; when set, consumers find
	// nsqds through them (NSQD is still where messages are published).
	Lookupd []string
	// Topic prefixes the topics; "" = DefaultTopic.
	Topic string
	// ReconnectInterval is how often a lost nsqd connection is retried;
	// 0 = 1 s.
	ReconnectInterval time.Duration
}

func (c Conn) topic(suffix string) string {
	t := c.Topic
	if t == "" {
		t = DefaultTopic
	}
	return t + "." + suffix
}

var nameRE = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// channelName is an ephemeral NSQ channel named after s.
func channelName(s string) string {
	s = nameRE.ReplaceAllString(s, "_")
	if len(s) > 50 {
		s = s[:50]
	}
	return s + "#ephemeral"
}

// bus publishes to one topic and consumes another. The consumer's
// goroutines belong to go-nsq; stop ends them.
type bus struct {
	conn   Conn
	prod   *nsq.Producer
	cons   *nsq.Consumer
	pubTo  string
	logf   func(string, ...any)
	inbox  chan *Message
	stopMu sync.Once
}

type nsqLogger struct{ logf func(string, ...any) }

func (l nsqLogger) Output(_ int, s string) error {
	l.logf("nsq: %s", s)
	return nil
}

// dial connects a producer for topic pub and a consumer of topic sub on
// channel; received messages go to the returned bus's inbox (which is
// never closed).
func dial(ctx context.Context, c Conn, pub, sub, channel string, logf func(string, ...any)) (*bus, error) {
	cfg := nsq.NewConfig()
	ri := c.ReconnectInterval
	if ri <= 0 {
		ri = time.Second
	}
	if err := cfg.Set("lookupd_poll_interval", ri); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	cfg.MaxInFlight = 64
	// Deliver each message at once: nsqd's output buffering (250 ms by
	// default) would make the clock probes' paths asymmetric. Messages
	// are few (about one per agent per second and kind).
	cfg.OutputBufferSize = -1
	cfg.OutputBufferTimeout = -1
	cfg.DialTimeout = 2 * time.Second
	b := &bus{conn: c, pubTo: pub, logf: logf, inbox: make(chan *Message, 4096)}
	prod, err := nsq.NewProducer(c.NSQD, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: producer: %w", err)
	}
	prod.SetLogger(nsqLogger{logf}, nsq.LogLevelError)
	b.prod = prod
	cons, err := nsq.NewConsumer(sub, channel, cfg)
	if err != nil {
		prod.Stop()
		return nil, fmt.Errorf("cluster: consumer: %w", err)
	}
	cons.SetLogger(nsqLogger{logf}, nsq.LogLevelError)
	cons.AddHandler(nsq.HandlerFunc(func(m *nsq.Message) error {
		msg, err := Decode(m.Body)
		if err != nil {
			logf("%v", err)
			return nil
		}
		msg.received = time.Now()
		select {
		case b.inbox <- msg:
		case <-cons.StopChan:
		}
		return nil
	}))
	b.cons = cons
	if len(c.Lookupd) > 0 {
		err = cons.ConnectToNSQLookupds(c.Lookupd)
	} else {
		err = cons.ConnectToNSQD(c.NSQD)
	}
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("cluster: connect to %s: %w", c.NSQD, err)
	}
	// Publishing creates the topic; do it once so that the other side's
	// consumer finds it.
	if err := prod.Ping(); err != nil {
		logf("cluster: nsqd %s: %v", c.NSQD, err)
	}
	return b, nil
}

// publish sends m on the bus's publish topic and waits for nsqd's answer
// or ctx, whichever comes first (go-nsq's Publish takes no context).
func (b *bus) publish(ctx context.Context, m *Message) error {
	body, err := m.Encode()
	if err != nil {
		return err
	}
	done := make(chan *nsq.ProducerTransaction, 1)
	if err := b.prod.PublishAsync(b.pubTo, body, done); err != nil {
		return fmt.Errorf("cluster: publish %s: %w", m.Kind, err)
	}
	select {
	case t := <-done:
		if t.Error != nil {
			return fmt.Errorf("cluster: publish %s: %w", m.Kind, t.Error)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: publish %s: %w", m.Kind, context.Cause(ctx))
	}
}

// publishTimeout is publish with a deadline of d.
func (b *bus) publishTimeout(ctx context.Context, d time.Duration, m *Message) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return b.publish(ctx, m)
}

// stop stops the consumer and the producer and waits for them; safe to
// call twice.
func (b *bus) stop() {
	b.stopMu.Do(func() {
		if b.cons != nil {
			b.cons.Stop()
			select {
			case <-b.cons.StopChan:
			case <-time.After(5 * time.Second):
			}
		}
		b.prod.Stop()
	})
}

// group runs goroutines that all stop on one signal: the context its Go
// functions receive is cancelled by stop (or by the parent), and wait
// returns when every one has returned.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newGroup(parent context.Context) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel}
}

// Go runs f in a goroutine owned by g.
func (g *group) Go(f func(ctx context.Context)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f(g.ctx)
	}()
}

// stop signals every goroutine of g and waits for them.
func (g *group) stop() {
	g.cancel()
	g.wg.Wait()
}
