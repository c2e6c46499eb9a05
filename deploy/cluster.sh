#!/usr/bin/env bash
# The compose cluster in one command.
#
#   deploy/cluster.sh up [--datanodes N]   build the image if needed, start a namenode and N (4)
#                                          datanodes and a client, wait until all are healthy
#   deploy/cluster.sh down                 stop it and remove its containers, network, volumes
#   deploy/cluster.sh hdfs ARGS...         run `hdfs ARGS` in the client container (stdin passed)
#   deploy/cluster.sh ps | logs [SERVICE...] | build
#
# HDFS_PROJECT names the compose project (default hdfs); HDFS_NAMENODE_PUBLISH where the
# namenode's port is published on the host (default 127.0.0.1:8020).
set -euo pipefail
PROJECT=${HDFS_PROJECT:-hdfs}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

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
        port=$(compose port namenode 8020)
        cat >&2 <<EOF

Cluster '$PROJECT' is up ($image): 1 namenode, $datanodes datanodes.
  namenode on the host:  $port   (hdfs --namenode http://$port ls|mkdir|fsck|report ...)
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
