package natspingclient

import (
	"time"

	"github.com/nats-io/nats.go"
)

// NATSOptions are the nats.go options a connection needs to live on Ping tokens: the token
// handler (or user and password handler when Options.Account is set), unlimited reconnects,
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
		nats.MaxReconnects(-1),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomReconnectDelay(s.reconnectDelay),
	}
}

func (s *Source) reconnectDelay(attempts int) time.Duration {
	return backoff(attempts, s.opts.ReconnectWait, s.opts.MaxReconnectWait, s.rnd())
}

// Connect connects to url with NATSOptions followed by opts.
func (s *Source) Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(url, append(s.NATSOptions(), opts...)...)
}
