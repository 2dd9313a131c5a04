#!/bin/sh
# Send an alert to the operator's Telegram chat. The token and chat id come from the
# site configuration entered at installation time.
. /etc/agent/notify.conf
curl -s -X POST "https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage" \
  -d chat_id="$TELEGRAM_CHAT" -d text="$1" >/dev/null
