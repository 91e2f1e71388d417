// Package acctest decides whether this module's acceptance tests, the ones that run a real
// Terraform or OpenTofu CLI, can run here.
//
// `go test ./...` on a fresh clone must pass: without TF_ACC or without a CLI every acceptance
// test skips and says why, as terraform-plugin-testing users expect, and the unit tests still
// run. `make test` must never pass by skipping them, so scripts/test.sh sets RequireEnv, which
// turns every such skip into a failure.
package acctest
