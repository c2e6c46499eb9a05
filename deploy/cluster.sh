#!/usr/bin/env bash
# The compose cluster in one command.
#
#   deploy/cluster.sh up [--datanodes N]   build the image if needed, start three namenodes (one
#                                          group: nn1, nn2, nn3), N (4) datanodes and a client,
#                                          wait until all are healthy
#   NAMENODES=1 deploy/cluster.sh up ...   the same with a single namenode (docker-compose.single.yml)
#   deploy/cluster.sh down                 stop it and remove its containers, network, volumes
#   deploy/cluster.sh hdfs ARGS...         run `hdfs ARGS` in the client container (stdin passed)
#   deploy/cluster.sh ps | logs [SERVICE...] | build
#
# HDFS_PROJECT names the compose project (default hdfs). Ports published on the host: the group's
# members at HDFS_NN1_PUBLISH, HDFS_NN2_PUBLISH, HDFS_NN3_PUBLISH (127.0.0.1:8020, :8021, :8022),
# the single namenode at HDFS_NAMENODE_PUBLISH (127.0.0.1:8020); `127.0.0.1:` picks a free port.
# Their HTTP ports (status page, WebHDFS, metrics): HDFS_NN1_HTTP_PUBLISH.. (127.0.0.1:9870,
# :9871, :9872), HDFS_NAMENODE_HTTP_PUBLISH (127.0.0.1:9870).
# Every command but `up` works on the cluster as it was started, whatever NAMENODES says now.
set -euo pipefail
PROJECT=${HDFS_PROJECT:-hdfs}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The compose file a running cluster was started with (compose records it on every container),
# if it is one of ours; nothing when no container of the project exists.
started_with() {
    local ids file
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT") || true
    [ -n "$ids" ] || return 0
    # shellcheck disable=SC2086
    file=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project.config_files"}}' $ids | sort -u)
    case ${file%%$'\n'*} in
        "$(compose_file_for 1)" | "$(compose_file_for 3)") echo "${file%%$'\n'*}" ;;
    esac
}
running_file=$(started_with)
# A running cluster keeps its file (scaling a single-namenode cluster needs no NAMENODES=1);
# only `up` with NAMENODES set to something else is refused below.
if [ -n "$running_file" ] && { [ -z "${NAMENODES:-}" ] || [ "${1:-}" != up ]; }; then
    COMPOSE_FILE_PATH=$running_file
fi

cmd=${1:-}
[ -n "$cmd" ] || usage
shift

case $cmd in
    build)
        "$DEPLOY_DIR/build-images.sh"
        ;;
    up)
        datanodes=4
        while [ $# -gt 0 ]; do
            case $1 in
                --datanodes | --scale) datanodes=${2:?}; shift 2 ;;
                --datanodes=* | --scale=*) datanodes=${1#*=}; shift ;;
                *) usage ;;
            esac
        done
        if [ -n "$running_file" ] && [ "$running_file" != "$COMPOSE_FILE_PATH" ]; then
            echo "cluster '$PROJECT' runs from $(basename "$running_file"), not $(basename "$COMPOSE_FILE_PATH") (NAMENODES=${NAMENODES:-3}): down it first" >&2
            exit 1
        fi
        image=$("$DEPLOY_DIR/build-images.sh" | tail -n1)
        export HDFS_IMAGE=$image
        # A datanode keeps its replicas in a directory named after its container's hostname, so
        # a recreated container is a new, empty datanode: never recreate running ones here (all
        # at once, that would lose every block). To change the image, `down` and `up` again.
        running=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
        recreate=()
        if [ -n "$running" ]; then
            recreate=(--no-recreate)
            # shellcheck disable=SC2086
            if docker inspect -f '{{.Config.Image}}' $running | grep -qv "^$image\$"; then
                echo "note: cluster '$PROJECT' runs an older image; its containers are kept (down and up to change it)" >&2
            fi
        fi
        compose up -d "${recreate[@]}" --scale "datanode=$datanodes"
        echo "waiting for every container to be healthy..." >&2
        wait_healthy 90
        compose ps
        if [ "$COMPOSE_FILE_PATH" = "$(compose_file_for 1)" ]; then
            what="1 namenode"
            where="  namenode on the host:  $(compose port namenode 8020)   (hdfs --namenode http://HOST:PORT ls|mkdir|fsck|report ...)"
        else
            what="3 namenodes (nn1, nn2, nn3: one group)"
            where="  namenodes on the host: nn1 $(compose port nn1 8020), nn2 $(compose port nn2 8020), nn3 $(compose port nn3 8020)
                         (list the leader's first: a follower names it as nnN:8020, which the host cannot resolve)
  the group:             deploy/cluster.sh hdfs haadmin -getAllServiceState ; deploy/cluster.sh hdfs haadmin -report"
        fi
        cat >&2 <<EOF

Cluster '$PROJECT' is up ($image): $what, $datanodes datanodes.
$where
  reads and writes:      deploy/cluster.sh hdfs put - /file < local ; deploy/cluster.sh hdfs cat /file
  stop and delete:       deploy/cluster.sh down
EOF
        ;;
    down)
        compose down -v --remove-orphans
        ;;
    hdfs)
        client=$(service_id client)
        [ -n "$client" ] || { echo "no client container: is the cluster up? (deploy/cluster.sh up)" >&2; exit 1; }
        if [ -t 0 ]; then
            exec docker exec -it "$client" /usr/local/bin/hdfs "$@"
        else
            exec docker exec -i "$client" /usr/local/bin/hdfs "$@"
        fi
        ;;
    ps)
        compose ps
        ;;
    logs)
        compose logs --no-color "$@"
        ;;
    *)
        usage
        ;;
esac
