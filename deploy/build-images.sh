#!/usr/bin/env bash
# Builds the cluster's image with no base image to pull: the release binaries built here, the
# loader and the libraries `ldd` lists for them, and busybox-static (a shell for the datanode's
# entry point and health check, and tools for debugging), imported as a rootfs.
#
#   deploy/build-images.sh            # -> hdfs-rs:<content hash> and hdfs-rs:latest
#
# The tag is a hash of the rootfs (a reproducible tar: sorted names, fixed times and owners), so a
# second run with nothing changed finds the image and skips the import. HDFS_IMAGE names the
# repository (default hdfs-rs); the last line printed is the image reference.
set -euo pipefail
cd "$(dirname "$0")/.."

REPO=${HDFS_IMAGE_REPO:-hdfs-rs}
BINS=(namenode datanode hdfs replica-tool)
say() { echo "build-images: $*" >&2; }

command -v docker >/dev/null || { say "docker not found"; exit 1; }

say "cargo build --release (${BINS[*]})"
bin_flags=()
for b in "${BINS[@]}"; do bin_flags+=(--bin "$b"); done
cargo build --release --locked --quiet "${bin_flags[@]}"

# busybox-static: one static binary, nothing else to copy with it.
BUSYBOX=/bin/busybox
if ! { [ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1; }; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing busybox-static"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null 2>&1 || {
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
        }
    fi
    { [ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1; } || {
        say "a static busybox is needed at $BUSYBOX (Debian package busybox-static)"
        exit 1
    }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/data" "$root/scratch" "$root/etc"
install -d -m 1777 "$root/tmp"

for b in "${BINS[@]}"; do
    # Debug line tables are for the host's backtraces; the image needs only the code.
    strip --strip-debug -o "$root/usr/local/bin/$b" "target/release/$b"
done

# Exactly the shared objects the binaries load (loader, libc, libm, libgcc_s here), at the paths
# the binaries ask for.
libs=$(for b in "${BINS[@]}"; do ldd "target/release/$b"; done |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
for lib in $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 deploy/image/datanode-entrypoint deploy/image/datanode-health "$root/usr/local/bin/"
install -D -m 0644 deploy/image/drill-client.sh "$root/usr/local/share/hdfs/drill-client.sh"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/rootfs.tar" .
hash=$(sha256sum "$work/rootfs.tar" | cut -c1-16)
image=$REPO:$hash

if docker image inspect "$image" >/dev/null 2>&1; then
    say "$image is up to date (rootfs unchanged)"
else
    say "importing $image ($(du -m "$work/rootfs.tar" | cut -f1) MiB)"
    docker import \
        --change 'ENV PATH=/usr/local/bin:/bin' \
        --change 'WORKDIR /' \
        --change "LABEL org.opencontainers.image.title=hdfs-rs org.hdfs-rs.rootfs-sha256=$hash" \
        --change 'CMD ["/usr/local/bin/hdfs", "--help"]' \
        - "$image" <"$work/rootfs.tar" >/dev/null
fi
docker tag "$image" "$REPO:latest"
# Older builds go, except those a container still uses (docker rmi refuses those).
for old in $(docker image ls "$REPO" --format '{{.Tag}}'); do
    case $old in latest | "$hash" | "<none>") ;; *) docker rmi "$REPO:$old" >/dev/null 2>&1 || true ;; esac
done
echo "$image"
