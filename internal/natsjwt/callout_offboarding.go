package natsjwt

// CalloutOffboardingJetStream is the JetStream a callout account gets when the trust enables
// offboarding: enough for the one key-value bucket the callout watches (entries are a few
// hundred bytes, History 1), and nothing for anything else, as the callout service user has no
// permission limits of its own.
func CalloutOffboardingJetStream() *JetStreamSpec {
	return &JetStreamSpec{JetStreamLimits: JetStreamLimits{
		MemoryStorage: Limit(0),
		DiskStorage:   Limit(64 << 20),
		Streams:       Limit(1),
		Consumer:      Limit(-1),
	}}
}
