//go:build race

package worker

// raceBuild is set in race-detector builds, whose shadow memory cannot live under
// RLIMIT_DATA; their workers are bounded by the resident-memory watchdog alone.
const raceBuild = true
