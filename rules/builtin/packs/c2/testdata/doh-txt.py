import base64
import json
import urllib.request


def stage(domain):
    url = "https://dns.google/resolve?name=" + domain + "&type=TXT"
    answer = json.load(urllib.request.urlopen(url))["Answer"]
    return base64.b64decode("".join(a["data"].strip('"') for a in answer))
