import socket
import subprocess

def fetch_status(host, port):
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"STATUS\n")
        return s.recv(1024)

def version():
    return subprocess.run(["/usr/bin/agentctl", "--version"], capture_output=True).stdout
