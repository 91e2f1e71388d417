package offboard

// SetConnzPage sets the CONNZ page size for a test and returns a function restoring it.
func SetConnzPage(n int) func() {
	old := connzPage
	connzPage = n
	return func() { connzPage = old }
}
