#!/usr/bin/env bash
# Starts the product on this machine: moto (DynamoDB, Secrets Manager, SQS,
# Scheduler), the fake Okta org (unless OKTA_DOMAIN and OKTA_API_TOKEN are
# set), the three functions under `cargo lambda watch`, and the queue
# hand-off that invokes the sync function.
#
#   scripts/local-stack.sh demo   create a connector, sync it, report, stop
#   scripts/local-stack.sh dev    keep everything running until Ctrl-C
#
# Settings (environment): LAMBDA_PORT (default 9000), DEMO_USERS (5000),
# DEMO_GROUPS (300), DEMO_SEED (1), OKTA_DOMAIN and OKTA_API_TOKEN for a real org.
set -euo pipefail

mode=${1:-demo}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=.local
mkdir -p "$state"
venv=.venv
lambda_port=${LAMBDA_PORT:-9000}
pids=()

stop_all() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
    local port=$1 what=$2
    for _ in $(seq 1 600); do
        if python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    echo "error: $what did not start on port $port; see $state/*.log" >&2
    exit 1
}

echo "==> Building the functions and local tools"
cargo build --quiet --bins

echo "==> Starting moto (AWS emulator)"
moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$state/moto.log" 2>&1 &
pids+=($!)
wait_for_port "$moto_port" moto
aws_endpoint="http://127.0.0.1:$moto_port"

if [[ -n "${OKTA_DOMAIN:-}" && -n "${OKTA_API_TOKEN:-}" ]]; then
    echo "==> Using the Okta org at $OKTA_DOMAIN"
    okta_domain=$OKTA_DOMAIN
    summary_args=()
else
    echo "==> Starting the fake Okta org (${DEMO_USERS:-5000} users, ${DEMO_GROUPS:-300} groups)"
    target/debug/fake-okta --port 0 --users "${DEMO_USERS:-5000}" --groups "${DEMO_GROUPS:-300}" \
        --seed "${DEMO_SEED:-1}" >"$state/fake-okta.json" 2>"$state/fake-okta.log" &
    pids+=($!)
    for _ in $(seq 1 300); do
        [[ -s "$state/fake-okta.json" ]] && break
        sleep 0.2
    done
    if [[ ! -s "$state/fake-okta.json" ]]; then
        echo "error: the fake Okta did not start within 60 s; see $state/fake-okta.log" >&2
        exit 1
    fi
    okta_domain=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["domain"])' "$state/fake-okta.json")
    OKTA_API_TOKEN=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["token"])' "$state/fake-okta.json")
    export OKTA_API_TOKEN
    summary_args=(--expect-summary "http://$okta_domain/__admin/summary")
fi

echo "==> Creating the table, queue and schedule group"
target/debug/devtool setup --endpoint "$aws_endpoint" --prefix okta-sync-local >"$state/resources.env"
# shellcheck disable=SC1091
source "$state/resources.env"

cursor_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
cat >"$state/functions.env" <<ENV
AWS_ENDPOINT_URL=$aws_endpoint
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
TABLE_NAME=$TABLE_NAME
SYNC_QUEUE_URL=$SYNC_QUEUE_URL
SYNC_QUEUE_ARN=$SYNC_QUEUE_ARN
SCHEDULE_GROUP_NAME=$SCHEDULE_GROUP_NAME
SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/okta-sync-local-scheduler
SECRET_NAME_PREFIX=okta-sync/local/connectors/
CURSOR_SIGNING_KEY=$cursor_key
OKTA_ALLOW_HTTP_LOOPBACK=1
SYNC_TIME_LIMIT_SECONDS=900
RUST_LOG=info
ENV

# The demo ignores source changes, so editing files while it runs does not
# restart a function in the middle of a sync; `dev` reloads on change.
watch_args=()
[[ "$mode" == demo ]] && watch_args+=(--ignore-changes)

echo "==> Starting the functions under cargo lambda watch on 127.0.0.1:$lambda_port"
"$venv/bin/cargo-lambda" lambda watch --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
    "${watch_args[@]}" --env-file "$state/functions.env" >"$state/watch.log" 2>&1 &
pids+=($!)
wait_for_port "$lambda_port" "cargo lambda watch"

AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true \
    target/debug/devtool handoff --endpoint "$aws_endpoint" --queue-url "$SYNC_QUEUE_URL" \
    --invoke-url "http://127.0.0.1:$lambda_port" >"$state/handoff.log" 2>&1 &
pids+=($!)

base="http://127.0.0.1:$lambda_port/lambda-url"
case "$mode" in
demo)
    echo "==> Running the demo"
    target/debug/devtool demo --api "$base/connectors" --schedules-api "$base/schedules" \
        --okta-domain "$okta_domain" "${summary_args[@]}"
    ;;
dev)
    cat <<TEXT

Local stack is running (Ctrl-C stops it; logs in $state/):
  connectors API   $base/connectors/connectors
  schedules API    $base/schedules/connectors/{id}/schedule, $base/schedules/schedules/preview
  sync function    http://127.0.0.1:$lambda_port/2015-03-31/functions/sync/invocations
  AWS emulator     $aws_endpoint (table $TABLE_NAME)
  Okta domain      $okta_domain
TEXT
    if [[ ${#summary_args[@]} -gt 0 ]]; then
        echo "  Okta API token   $OKTA_API_TOKEN   (the fake org's token, not a secret)"
    fi
    cat <<TEXT

Create a connector:
  curl -s -X POST $base/connectors/connectors -H 'content-type: application/json' \\
    -d '{"name": "Local", "domain": "$okta_domain", "apiToken": "<token>"}'
TEXT
    wait
    ;;
*)
    echo "usage: $0 demo|dev" >&2
    exit 2
    ;;
esac
