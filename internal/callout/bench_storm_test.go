package callout

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// startNullCallout answers every authorization request on e's callout account as cheaply as
// any callout can: open and decode the request, sign a user JWT and the (sealed) response,
// with no token check. It shares the work over connections and workers as the Service does by
// default, so the connect rate through it is the most this nats-server lets any callout reach;
// BenchmarkConnectStorm reports ours as a fraction of it.
func startNullCallout(tb testing.TB, e *natsEnv, m calloutconfig.Mapping) {
	tb.Helper()
	// The cheapest signing and sealing there is (keys.go), so nothing but the protocol's own
	// work separates the null callout from the limit.
	role, err := newSigningKey(m.RoleSigningKeySeed, natsjwt.KindAccount)
	if err != nil {
		tb.Fatal(err)
	}
	account, err := newSigningKey(e.calloutSeed, natsjwt.KindAccount)
	if err != nil {
		tb.Fatal(err)
	}
	var box *xkeyBox
	if e.xkeySeed != "" {
		if box, err = newXKeyBox(e.xkeySeed); err != nil {
			tb.Fatal(err)
		}
	}
	userJWT, err := jwt.ParseDecoratedJWT([]byte(e.serviceCreds))
	if err != nil {
		tb.Fatal(err)
	}
	userKP, err := jwt.ParseDecoratedUserNKey([]byte(e.serviceCreds))
	if err != nil {
		tb.Fatal(err)
	}
	userSeed, _ := userKP.Seed()
	tags := []string{calloutconfig.TagPingSub + ":null", calloutconfig.TagRole + ":" + m.Role, calloutconfig.TagMapping + ":" + m.Name}
	answer := func(msg *nats.Msg) {
		data := msg.Data
		if box != nil {
			var err error
			if data, err = box.open(data, msg.Header.Get(ServerXKeyHeader)); err != nil {
				tb.Errorf("null callout: open: %v", err)
				return
			}
		}
		req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			tb.Errorf("null callout: decode: %v", err)
			return
		}
		uc := natsjwt.ScopedUserClaims(req.UserNkey, m.Account, "null", tags, time.Now().Add(time.Hour))
		ujwt, err := uc.Encode(role)
		if err != nil {
			tb.Errorf("null callout: user JWT: %v", err)
			return
		}
		resp := jwt.NewAuthorizationResponseClaims(req.UserNkey)
		resp.Audience, resp.Jwt = req.Server.ID, ujwt
		out, err := resp.Encode(account)
		if err != nil {
			tb.Errorf("null callout: response: %v", err)
			return
		}
		reply := []byte(out)
		if box != nil {
			if reply, err = box.seal(reply, req.Server.XKey); err != nil {
				tb.Errorf("null callout: seal: %v", err)
				return
			}
		}
		_ = msg.Respond(reply)
	}
	sem := make(chan struct{}, 4*runtime.GOMAXPROCS(0))
	for range max(2, min(8, runtime.GOMAXPROCS(0))) {
		nc, err := nats.Connect(e.url, nats.UserJWTAndSeed(userJWT, string(userSeed)), nats.Name("null-callout"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(nc.Close)
		if _, err := nc.QueueSubscribe(AuthCalloutSubject, "null-callout", func(msg *nats.Msg) {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				answer(msg)
			}()
		}); err != nil {
			tb.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkReconnectStorm: stormClients clients whose tokens expire in the same second, each
// reconnecting with a fresh token when the server ends its session, with spreading off and on.
// One op is one whole storm; run it with -benchtime=1x. The window here is 10 s (50% of a 20 s
// session, bounded by the 10 s floor) so a run stays short; the default 5% of an hour is 3
// minutes, which spreads the same cohort eighteen times thinner.
func BenchmarkReconnectStorm(b *testing.B) {
	const stormClients = 2000
	for _, c := range []struct {
		name    string
		percent float64
		lead    time.Duration
	}{
		{"spread=off", 0, 5 * time.Second},
		{"spread=50%", 50, 20 * time.Second},
	} {
		b.Run(c.name, func(b *testing.B) {
			var r *stormResult
			for b.Loop() {
				r = runReconnectStorm(b, stormOptions{clients: stormClients, percent: c.percent, lead: c.lead, xkey: true})
			}
			lat := r.decisionLatencies()
			b.ReportMetric(float64(len(r.expiryBuckets())), "exp_seconds")
			b.ReportMetric(r.peakPerSecond(time.Second), "peak_conn/s")
			b.ReportMetric(r.peakPerSecond(100*time.Millisecond), "peak100ms_conn/s")
			b.ReportMetric(float64(r.refused), "refusals")
			b.ReportMetric(percentile(r.reconnect, 50), "reconnect_p50_ms")
			b.ReportMetric(percentile(r.reconnect, 99), "reconnect_p99_ms")
			b.ReportMetric(percentile(lat, 50), "decision_p50_ms")
			b.ReportMetric(percentile(lat, 99), "decision_p99_ms")
			b.Log(fmt.Sprintf("%s:", c.name), r.reconnectsPerSecond())
		})
	}
}
