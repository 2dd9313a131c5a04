//go:build !race

package elf

const raceEnabled = false

const raceSample = 1
