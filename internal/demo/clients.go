package demo

import (
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// connectWithToken connects the way a person's application would: only the Ping access
// token, in the connect `auth_token`. The server's default_sentinel carries it to the callout.
// Asynchronous errors (such as permission violations) are delivered on the returned channel.
func connectWithToken(url, token string) (*nats.Conn, <-chan error, error) {
	errs := make(chan error, 16)
	nc, err := nats.Connect(url,
		nats.Name("natsping-demo"),
		nats.Token(token),
		nats.NoReconnect(),
		nats.Timeout(5*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}),
	)
	if err != nil {
		return nil, nil, err
	}
	return nc, errs, nil
}

func waitAsyncError(errs <-chan error, wait time.Duration) error {
	select {
	case err := <-errs:
		return err
	case <-time.After(wait):
		return nil
	}
}

// waitNoAsyncError returns the first asynchronous error seen within wait, or nil.
func waitNoAsyncError(errs <-chan error, wait time.Duration) error {
	if err := waitAsyncError(errs, wait); err != nil {
		return errors.Join(errors.New("unexpected asynchronous error"), err)
	}
	return nil
}
