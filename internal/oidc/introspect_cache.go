package oidc

import (
	"container/list"
	"sync"
	"time"
)

// answer is one positive introspection answer, as the issuer gave it. It holds no policy
// verdict: the verifier applies its policy on every use, so a cached answer can never pass a
// check it would fail when fresh.
type answer struct {
	hash    string
	claims  claimSet  // read-only once stored: every caller's Identity shares it
	exp     time.Time // the answer is useless past it, even as a stale one
	checked time.Time // when the issuer said so; freshness is measured from here
	size    int       // bytes charged against the cache's budget
}

// answerCache is an LRU of positive answers keyed by the token's SHA-256 and bounded twice:
// by entries, and by the bytes of the responses it holds, because the issuer (not the client)
// decides how large an answer is and a groups list can make it tens of KiB.
type answerCache struct {
	mu       sync.Mutex
	maxLen   int
	maxBytes int
	bytes    int
	order    *list.List // front = most recently used
	entries  map[string]*list.Element
}

func newAnswerCache(maxLen, maxBytes int) *answerCache {
	return &answerCache{maxLen: maxLen, maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// get returns the answer for hash while now is before its exp; an expired one is dropped.
func (c *answerCache) get(hash string, now time.Time) (*answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[hash]
	if !ok {
		return nil, false
	}
	a := el.Value.(*answer)
	if !now.Before(a.exp) {
		c.drop(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return a, true
}

// put stores a, replacing an older answer for the same token. An answer larger than the whole
// budget is not stored at all rather than emptying the cache for it.
func (c *answerCache) put(a *answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[a.hash]; ok {
		c.drop(el)
	}
	if a.size > c.maxBytes {
		return
	}
	c.entries[a.hash] = c.order.PushFront(a)
	c.bytes += a.size
	for c.order.Len() > c.maxLen || c.bytes > c.maxBytes {
		c.drop(c.order.Back())
	}
}

func (c *answerCache) remove(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[hash]; ok {
		c.drop(el)
	}
}

// drop must be called with mu held.
func (c *answerCache) drop(el *list.Element) {
	a := el.Value.(*answer)
	c.order.Remove(el)
	delete(c.entries, a.hash)
	c.bytes -= a.size
}

func (c *answerCache) stats() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
