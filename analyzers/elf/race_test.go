//go:build race

package elf

const raceEnabled = true

// raceSample is the stride of the files compared under the race detector.
const raceSample = 8
