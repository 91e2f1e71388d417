package callout

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

// FuzzHandleRequest feeds arbitrary payloads and xkey headers to the decision core. The
// verifier accepts "tok-alice", so a well-formed request from the trusted server key is
// allowed; the property is that nothing else ever is: every allow must carry a request
// signed by that server (which the fuzzer cannot forge) and must answer its user_nkey.
func FuzzHandleRequest(f *testing.F) {
	envs := map[bool]*coreEnv{false: newCoreEnv(f, false), true: newCoreEnv(f, true)}
	engines := map[bool]*engine{}
	for xkey, c := range envs {
		engines[xkey] = c.engine(f, fakeVerifier{"tok-alice": identity("alice", "g")}, c.orders.mapping("m", "reader", 0, "g"))
		valid, hdr, _ := c.request(f, nil)
		byPass, _, _ := c.request(f, func(rc *jwt.AuthorizationRequestClaims) {
			rc.ConnectOptions = jwt.ConnectOptions{Username: "ORDERS", Password: "tok-alice"}
		})
		f.Add(xkey, valid, hdr)
		f.Add(xkey, byPass, hdr)
		f.Add(xkey, []byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.AAAA"), "")
		f.Add(xkey, []byte("xkv1"+strings.Repeat("A", 64)), c.serverXPub)
		f.Add(xkey, []byte{}, "")
	}

	f.Fuzz(func(t *testing.T, xkey bool, data []byte, hdr string) {
		c, e := envs[xkey], engines[xkey]
		reply, d := e.handle(context.Background(), data, hdr)
		if len(reply) == 0 {
			if d.Allowed {
				t.Fatal("allowed without a reply")
			}
			return
		}
		if !d.Allowed {
			resp := c.response(t, reply)
			if resp.Jwt != "" || resp.Error != refusalMessage {
				t.Fatalf("refusal carries jwt=%q error=%q", resp.Jwt, resp.Error)
			}
			return
		}
		if d.Request == nil || d.Request.Issuer != c.serverPub || d.Request.Server.ID != c.serverPub {
			t.Fatalf("allowed a request not signed by the trusted server: %+v", d.Request)
		}
		resp := c.response(t, reply)
		uc, err := jwt.DecodeUserClaims(resp.Jwt)
		if err != nil || uc.Subject != d.Request.UserNkey || resp.Subject != d.Request.UserNkey {
			t.Fatalf("allow does not answer the request's user nkey: %v", err)
		}
	})
}
