# Sourced by scripts/run.sh (and the end-to-end tests): the environment of the three processes.
# Anything already set in the environment wins; generated secrets live in var/secrets.env.
mkdir -p var
if [ ! -f var/secrets.env ]; then
  umask 077
  {
    echo "RASA_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "WEB_SESSION_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
  } > var/secrets.env
fi
while IFS='=' read -r key value; do
  [ -n "$key" ] && [ -z "${!key:-}" ] && export "$key=$value"
done < var/secrets.env
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
export GATEWAY_PORT="${GATEWAY_PORT:-8080}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:${RASA_PORT}}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_SERVER_PORT}}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export RASA_TELEMETRY_ENABLED=false  # no calls to segment.io or sentry.io
