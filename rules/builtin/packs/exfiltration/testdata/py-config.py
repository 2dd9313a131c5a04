import os

import requests

API = os.environ.get("AGENT_API", "https://api.example.com")
TOKEN = os.environ["AGENT_TOKEN"]


def report(status):
    """Send the agent's status; only the named fields leave the machine."""
    requests.post(API + "/status", json={"status": status}, headers={"Authorization": "Bearer " + TOKEN}, timeout=5)
