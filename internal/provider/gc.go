package provider

import (
	"os"
	"runtime/debug"
)

// servingGCPercent is the collector's heap growth target (GOGC) while the provider serves
// the CLI. terraform-plugin-framework allocates megabytes of short-lived values per resource
// instance and RPC against a live heap of a few megabytes, so at Go's default of 100 the
// collector runs every resource or two and takes about a third of the provider's CPU in a
// large plan. At 400 it runs a quarter as often; the price is a peak heap of about five
// times the live heap, tens of megabytes (see the Plan cost section of the performance guide).
const servingGCPercent = 400

// TuneGC applies servingGCPercent unless the user chose a GOGC of their own; restore puts
// the previous setting back (for benchmarks, which share a process with other tests).
func TuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(servingGCPercent)
	return func() { debug.SetGCPercent(prev) }
}
