// Package dep is a local dependency of the fixture app, brought in by a replace
// directive so that the build information records a module with a version.
package dep

// Greeting is what the app prints.
func Greeting() string { return "hello from dep" }
