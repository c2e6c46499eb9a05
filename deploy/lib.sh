# shellcheck shell=bash
# Shared by cluster.sh and drill.sh (sourced, not run): the compose command of this machine, the
# compose file (NAMENODES=1: the single namenode; 3, the default: the group), and waits on
# container health. Expects `set -euo pipefail` and PROJECT to be set by the caller.

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The compose file of a cluster of N namenodes: docker-compose.yml is the group of three,
# docker-compose.single.yml the single namenode.
compose_file_for() {
    case $1 in
        1) echo "$DEPLOY_DIR/docker-compose.single.yml" ;;
        3) echo "$DEPLOY_DIR/docker-compose.yml" ;;
        *) echo "NAMENODES must be 1 or 3 (got '$1')" >&2; return 1 ;;
    esac
}
COMPOSE_FILE_PATH=$(compose_file_for "${NAMENODES:-3}")

# `docker compose` (v2) or `docker-compose` (v1), whichever this machine has.
if docker compose version >/dev/null 2>&1; then
    COMPOSE_CMD=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE_CMD=(docker-compose)
else
    COMPOSE_CMD=()
fi

# The cluster secret every node of project $PROJECT is given (HDFS_CLUSTER_SECRET, 64 hex
# digits): as exported, else kept in deploy/.secrets/$PROJECT, made on first use. It stays the
# same across `up`, `down` and container restarts, so nodes started later join the others.
cluster_secret() {
    local file="$DEPLOY_DIR/.secrets/$PROJECT"
    if [ ! -s "$file" ]; then
        mkdir -p "$DEPLOY_DIR/.secrets"
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file")
    fi
    cat "$file"
}

HDFS_CLUSTER_SECRET="${HDFS_CLUSTER_SECRET:-$(cluster_secret)}"
export HDFS_CLUSTER_SECRET

compose() {
    [ ${#COMPOSE_CMD[@]} -gt 0 ] || { echo "neither 'docker compose' nor 'docker-compose' is installed" >&2; return 1; }
    "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --file "$COMPOSE_FILE_PATH" "$@"
}

# Container ids of a service, one a line (the whole output is read: see notes on pipefail).
service_ids() {
    local out
    out=$(compose ps -q "$1" 2>/dev/null) || true
    printf '%s\n' "$out" | sed '/^$/d'
}

# The first container id of a service.
service_id() {
    local ids
    ids=$(service_ids "$1")
    printf '%s\n' "${ids%%$'\n'*}"
}

# Health of a container: healthy, unhealthy, starting, none (no check), or its state if not running.
container_health() {
    docker inspect -f '{{if .State.Running}}{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo gone
}

# Waits until every container of the project with a health check is healthy; fails after
# $1 seconds, naming the ones that are not.
wait_healthy() {
    local timeout=$1 deadline=$((SECONDS + $1)) id ids bad
    while :; do
        bad=""
        ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT") || true
        for id in $ids; do
            case $(container_health "$id") in
                healthy | none) ;;
                *) bad="$bad $(docker inspect -f '{{.Name}}' "$id" | tr -d /)=$(container_health "$id")" ;;
            esac
        done
        [ -z "$bad" ] && [ -n "$ids" ] && return 0
        if [ $SECONDS -ge $deadline ]; then
            echo "not healthy after ${timeout}s:${bad:- no containers}" >&2
            return 1
        fi
        sleep 1
    done
}
