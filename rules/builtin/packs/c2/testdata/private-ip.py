#!/usr/bin/env python3
import urllib.request

# The appliance's management interface and the cloud metadata service.
MGMT = "https://192.168.10.1/api/status"
METADATA = "http://169.254.169.254/latest/meta-data/instance-id"
DOCS = "http://203.0.113.10/example-only"


def status():
    return urllib.request.urlopen(MGMT, timeout=3).read()
