#!/bin/bash
# Keeps a long-running command up: restarts it when it exits (waiting 1 s, doubling up to 30 s while it keeps failing
# within a minute). Stopped by a signal to its whole process group (the lab starts it as a session leader).
#   supervise.sh command [args...]
set -u
trap 'exit 0' TERM INT
delay=1
while true; do
  started=$(date +%s)
  "$@"
  rc=$?
  if [ $(( $(date +%s) - started )) -ge 60 ]; then delay=1; fi
  echo "$(date -u +%FT%TZ) supervise: $1 exited with status $rc; restarting in ${delay} s" >&2
  sleep "$delay"
  delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
done
