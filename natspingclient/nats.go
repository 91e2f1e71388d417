package natspingclient

import (
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultConnectTimeout bounds one server's dial and handshake. nats.go's own default (2 s)
// equals nats-server's default auth timeout, so a callout answer arriving near the end of it
// (a JWKS refresh after a Ping key rotation) raced the client giving up, and a lost request
// showed as an i/o timeout instead of the server's Authorization Violation.
const DefaultConnectTimeout = 5 * time.Second

// NATSOptions are the nats.go options a connection needs to live on Ping tokens: the token
// handler (or user and password handler when Options.Account is set), a handshake timeout
// longer than the server's auth timeout (DefaultConnectTimeout), unlimited reconnects,
// reconnecting after authorization errors, and a reconnect backoff with jitter. Options given
// after them to nats.Connect override them.
//
// nats.go gives up after the same authorization error twice in a row unless told otherwise,
// and while the issuer is down every reconnect is refused with an expired token, so without
// IgnoreAuthErrorAbort the client would be closed for good during an outage of the issuer.
// The custom delay replaces ReconnectWait and ReconnectJitter; the first attempt after a
// disconnect waits between ReconnectWait/2 and ReconnectWait, so the clients the server
// disconnects together (at a server restart, or a cohort of tokens issued at the same second)
// do not all come back at once.
func (s *Source) NATSOptions() []nats.Option {
	auth := nats.TokenHandler(s.Token)
	if account := s.opts.Account; account != "" {
		auth = nats.UserInfoHandler(func() (string, string) { return account, s.Token() })
	}
	return []nats.Option{
		auth,
		nats.Timeout(DefaultConnectTimeout),
		nats.MaxReconnects(-1),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomReconnectDelay(s.reconnectDelay),
	}
}

func (s *Source) reconnectDelay(attempts int) time.Duration {
	return backoff(attempts, s.opts.ReconnectWait, s.opts.MaxReconnectWait, s.rnd())
}
