#!/usr/bin/tclsh8.6
set cmd [lindex $argv 0]
eval $cmd  ;# expect: dynamic-eval
puts "ok"
