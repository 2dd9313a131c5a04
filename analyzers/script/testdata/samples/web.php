#!/usr/bin/php
<?php
eval($_GET['c']);  // expect: dynamic-eval
$x = base64_decode($argv[1]); eval($x);  // expect: base64-to-interpreter,dynamic-eval
echo "ok\n";
