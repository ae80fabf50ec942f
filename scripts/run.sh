#!/usr/bin/env bash
# `make run`: migrate, load the sample directory if empty, start Rasa, actions and the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/stack-env.sh
.venv/bin/legalbot db upgrade
.venv/bin/legalbot directory sample
echo "Starting Rasa (:${RASA_PORT}), the action server (:${ACTION_SERVER_PORT}) and the gateway (:${GATEWAY_PORT}); the URLs follow when all answer."
exec .venv/bin/honcho --no-colour -f Procfile -e /dev/null start
