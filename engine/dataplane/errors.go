package dataplane

import "errors"

// ErrNotFound is wrapped by every implementation when the named link, or the
// address, route or rule to delete, does not exist, so that callers reconciling
// state can treat "already gone" as success with errors.Is.
var ErrNotFound = errors.New("not found")
