#!/usr/bin/env bash
# The load test (issue 6): the realistic mix of bench/locustfile.py against `make serve`
# (gunicorn, DEBUG off, as behind a TLS proxy) on the seed_scale database, at 16 and 64
# concurrent users, 45 s each, 127.0.0.1 only. Run by hand (`make loadtest`), never in CI.
# Locust lives in its own virtualenv (.venv-locust): it is a measuring tool, not a dependency
# of the app or of its tests.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL to the seed_scale database (make loadtest does)}"
export DEBUG=0 ALLOWED_HOSTS=127.0.0.1 BEHIND_TLS_PROXY=1 CELERY_BROKER_URL=
export SECRET_KEY="${SECRET_KEY:-loadtest-only-secret-not-used-in-production-0123456789}"
PORT="${LOADTEST_PORT:-8765}"
DURATION="${LOADTEST_DURATION:-45s}"
LOCUST_VERSION=2.47.0

if [ ! -x .venv-locust/bin/locust ]; then
  python3 -m venv .venv-locust
  .venv-locust/bin/pip install -q --disable-pip-version-check "locust==$LOCUST_VERSION"
fi

# The bench command is in the development-only bench app (bench.settings); the server runs on crm.settings.
BENCH=(env DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python manage.py bench --no-seed)
"${BENCH[@]}" --locust-setup bench/data/locust.json --users 64
.venv/bin/python manage.py collectstatic --noinput -v0
BIND="127.0.0.1:$PORT" .venv/bin/gunicorn --config gunicorn.conf.py >bench/data/gunicorn.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.2
done

for users in 16 64; do
  echo "== $users users, $DURATION"
  # Each run takes fresh cards for the closure flow: prepare again so none was closed before.
  [ "$users" = 16 ] || "${BENCH[@]}" --locust-setup bench/data/locust.json --users 64
  LOCUST_HOST="http://127.0.0.1:$PORT" .venv-locust/bin/locust -f bench/locustfile.py --headless \
    -u "$users" -r "$users" -t "$DURATION" --host "http://127.0.0.1:$PORT" --only-summary \
    --csv "bench/data/loadtest_$users" 2>&1 | tail -n 25
done
