package callout

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// link is one NATS connection with its micro service instance on $SYS.REQ.USER.AUTH.
type link struct {
	nc     *nats.Conn
	svc    micro.Service
	closed chan struct{}
}

// Start connects to NATS and begins answering $SYS.REQ.USER.AUTH. It returns once the
// service is registered; with the NATS servers unreachable it keeps retrying in the
// background and /readyz reports not ready until connected.
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.links.Load() != nil {
		return errors.New("callout: already started")
	}
	doc := s.state.Load().doc
	ujwt, kp, err := parseCreds(doc.NATS.Creds)
	if err != nil {
		return err
	}
	var links []*link
	for i := range s.opts.Connections {
		l, err := s.dial(doc.NATS.URLs, doc.NATS.QueueGroup, ujwt, kp.Sign, i)
		if err != nil {
			for _, l := range links {
				l.nc.Close()
			}
			return err
		}
		links = append(links, l)
	}
	if err := s.startOffboarding(doc.NATS.URLs, ujwt, kp.Sign); err != nil {
		for _, l := range links {
			l.nc.Close()
		}
		return err
	}
	s.links.Store(&links)
	s.audit.SetPublisher(func(subject string, data []byte) error {
		for _, l := range links {
			if l.nc.IsConnected() {
				return l.nc.Publish(subject, data)
			}
		}
		return nats.ErrConnectionClosed
	})
	return nil
}

func (s *Service) dial(urls []string, queue, ujwt string, sign nats.SignatureHandler, i int) (*link, error) {
	l := &link{closed: make(chan struct{})}
	log := s.log.With("connection", i)
	opts := []nats.Option{
		nats.Name(s.opts.Name),
		nats.UserJWT(func() (string, error) { return ujwt, nil }, sign),
		// Reconnect forever, spread out: after a server restart every replica of every
		// client reconnects at once, and the callout must not be the one that gives up.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.RetryOnFailedConnect(true),
		// A transient "authorization violation" (account JWT not yet pushed) must not
		// end the process: nats.go otherwise stops after two identical auth errors.
		nats.IgnoreAuthErrorAbort(),
		nats.ConnectHandler(func(nc *nats.Conn) { log.Info("connected to NATS", "url", RedactURL(nc.ConnectedUrl())) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("disconnected from NATS", "error", err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", RedactURL(nc.ConnectedUrl())) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS error", "subject", subject, "error", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(l.closed) }),
	}
	opts = append(opts, s.opts.NATSOptions...)
	nc, err := nats.Connect(joinURLs(urls), opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS: %w", err)
	}
	l.nc = nc
	l.svc, err = micro.AddService(nc, micro.Config{
		Name:        s.opts.Name,
		Version:     ServiceVersion,
		Description: "natsping auth callout: Ping OIDC tokens to NATS users",
		QueueGroup:  queue,
		Endpoint: &micro.EndpointConfig{
			Subject:    AuthCalloutSubject,
			Handler:    micro.HandlerFunc(s.dispatch),
			QueueGroup: queue,
		},
		ErrorHandler: func(_ micro.Service, e *micro.NATSError) {
			log.Error("callout endpoint error", "subject", e.Subject, "error", e.Description)
		},
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("registering the callout service: %w", err)
	}
	return l, nil
}

// Shutdown stops taking requests, answers the ones already received, flushes audit lines
// and closes the connections. Servers send new requests to the remaining replicas.
func (s *Service) Shutdown(ctx context.Context) error {
	s.beginDrain()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	var links []*link
	if p := s.links.Load(); p != nil {
		links = *p
	}
	for _, l := range links {
		if !l.nc.IsConnected() {
			continue
		}
		if err := l.svc.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the service endpoint: %w", err))
		}
	}
	s.off.stop()
	// Draining subscriptions deliver what the server already sent; wait for that, then
	// for the workers, before the connections (and with them the replies) go away. A
	// disconnected link has nothing to drain: what it had in flight is lost with it, the
	// server times those requests out and their clients retry.
	if err := waitUntil(ctx, func() bool {
		for _, l := range links {
			if l.nc.IsConnected() && l.nc.NumSubscriptions() > 0 {
				return false
			}
		}
		return true
	}); err != nil {
		errs = append(errs, fmt.Errorf("waiting for pending requests: %w", err))
	}
	if err := waitUntil(ctx, s.flightDone()); err != nil {
		errs = append(errs, fmt.Errorf("waiting for running decisions: %w", err))
	}
	s.audit.SetPublisher(nil)
	for _, l := range links {
		if !l.nc.IsConnected() || l.nc.Drain() != nil {
			l.nc.Close()
		}
	}
	for _, l := range links {
		select {
		case <-l.closed:
		case <-ctx.Done():
			l.nc.Close()
		}
	}
	s.audit.Close()
	s.keys.close()
	return errors.Join(errs...)
}

func (s *Service) flightDone() func() bool {
	done := make(chan struct{})
	go func() { s.flight.Wait(); close(done) }()
	return func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

func waitUntil(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// connected counts the NATS connections that are up.
func (s *Service) connected() int {
	p := s.links.Load()
	if p == nil {
		return 0
	}
	n := 0
	for _, l := range *p {
		if l.nc.IsConnected() {
			n++
		}
	}
	return n
}

// Ready reports why the service cannot answer requests yet, or nil.
func (s *Service) Ready() error {
	if s.Draining() {
		return ErrDraining
	}
	if s.connected() == 0 {
		return errors.New("not connected to NATS")
	}
	if err := s.off.ready(); err != nil {
		return err
	}
	if s.keys.remote() {
		if st := s.keys.stats(); st.Keys == 0 {
			if st.LastError != "" {
				return fmt.Errorf("issuer signing keys not loaded: %s", st.LastError)
			}
			return errors.New("issuer signing keys not loaded yet")
		}
	}
	return nil
}

// Stats are the NATS micro service statistics, one entry per connection.
func (s *Service) Stats() []micro.Stats {
	p := s.links.Load()
	if p == nil {
		return nil
	}
	out := make([]micro.Stats, 0, len(*p))
	for _, l := range *p {
		out = append(out, l.svc.Stats())
	}
	return out
}

// parseCreds reads a creds file's JWT and user seed; errors never echo the content.
func parseCreds(creds string) (string, interface{ Sign([]byte) ([]byte, error) }, error) {
	ujwt, err := jwt.ParseDecoratedJWT([]byte(creds))
	if err != nil || ujwt == "" {
		return "", nil, errors.New("nats.creds: no user JWT found; pass the whole creds file of the callout service user")
	}
	if _, err := jwt.DecodeUserClaims(ujwt); err != nil {
		return "", nil, fmt.Errorf("nats.creds: the user JWT is invalid: %v", err)
	}
	kp, err := jwt.ParseDecoratedUserNKey([]byte(creds))
	if err != nil {
		return "", nil, errors.New("nats.creds: no user seed (SU…) found; pass the whole creds file of the callout service user")
	}
	return ujwt, kp, nil
}

// RedactURL hides the credentials a NATS URL may carry: the password of
// nats://user:pass@host, and the whole user part of nats://token@host, which NATS clients
// send as the auth token (url.URL.Redacted, and so nats.go's ConnectedUrlRedacted, keep it).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); !hasPassword {
			u.User = url.User("xxxxx")
		}
	}
	return u.Redacted()
}

func joinURLs(urls []string) string {
	if len(urls) == 0 {
		return nats.DefaultURL
	}
	return strings.Join(urls, ",")
}
