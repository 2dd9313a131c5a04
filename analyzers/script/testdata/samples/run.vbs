Option Explicit
Dim code, shell
code = WScript.Arguments(0)
Execute code ' expect: dynamic-eval
ExecuteGlobal(code) ' expect: dynamic-eval
Set shell = CreateObject("WScript.Shell")
