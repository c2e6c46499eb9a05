# Sourced by deploy/drill.sh inside the `client` container (busybox sh): the client side of the
# drills. Files live in /scratch/SET/fN, their SHA-256 in /scratch/SET.sums, copies in the
# cluster under /drill/SET/fN.
# shellcheck shell=dash disable=SC3040 # busybox sh has pipefail
set -o pipefail
H="/usr/local/bin/hdfs --quiet"

# Seconds since boot, to the hundredth (busybox date has no %N).
now() { read -r u _ </proc/uptime; echo "$u"; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# put_files SET COUNT SIZE BLOCKSIZE: COUNT random files of SIZE bytes at replication 3.
put_files() {
    mkdir -p "/scratch/$1" && $H mkdir -p "/drill/$1" && cd "/scratch/$1" || return 1
    i=1
    while [ "$i" -le "$2" ]; do
        head -c "$3" /dev/urandom >"f$i" || return 1
        t=$(now)
        $H put -f -r 3 -b "$4" "f$i" "/drill/$1/f$i" || return 1
        t=$(took "$t")
        awk -v t="$t" 'BEGIN { exit !(t > 2) }' && echo "put of /drill/$1/f$i took $t"
        i=$((i + 1))
    done
    sha256sum f* >"../$1.sums"
}

# verify_set SET: reads every file of SET back; prints "OK NAME BYTES SECONDS" or
# "BAD NAME WHY" each.
verify_set() {
    cd "/scratch/$1" || return 1
    while read -r sum name; do
        t=$(now)
        if got=$($H cat "/drill/$1/$name" | sha256sum); then
            got=${got%% *}
            if [ "$got" = "$sum" ]; then
                echo "OK $name $(stat -c %s "$name") $(took "$t")"
            else
                echo "BAD $name: sha256 $got, expected $sum"
            fi
        else
            echo "BAD $name: read failed"
        fi
    done <"../$1.sums"
}

# reader_loop SET TRIES: reads every file of SET in turn until /scratch/stop exists; a read may
# be tried TRIES times (1 s apart) before it counts as failed for good. Log: /scratch/reader.log.
reader_loop() {
    rm -f /scratch/stop
    : >/scratch/reader.log
    while [ ! -e /scratch/stop ]; do
        while read -r sum name; do
            t=1
            while :; do
                got=$($H cat "/drill/$1/$name" | sha256sum) && [ "${got%% *}" = "$sum" ] && {
                    echo "OK $name $t $(stat -c %s "/scratch/$1/$name")" >>/scratch/reader.log
                    break
                }
                if [ "$t" -ge "$2" ]; then
                    echo "FAIL $name after $t tries" >>/scratch/reader.log
                    break
                fi
                echo "RETRY $name $t" >>/scratch/reader.log
                t=$((t + 1))
                sleep 1
            done
        done <"/scratch/$1.sums"
    done
    echo DONE >>/scratch/reader.log
}

# put_loop SET COUNT: puts the files of SET already made (f1..fCOUNT, 1 MiB blocks) one after
# another, appending the sum of each one acknowledged to /scratch/SET.sums; stops at the first
# failure, writing its number to /scratch/SET.failed.
put_loop() {
    cd "/scratch/$1" || return 1
    : >"../$1.sums"
    i=1
    while [ "$i" -le "$2" ]; do
        if $H put -r 3 -b 1MiB "f$i" "/drill/$1/f$i"; then
            sha256sum "f$i" >>"../$1.sums"
        else
            echo "$i" >"../$1.failed"
            return 0
        fi
        i=$((i + 1))
    done
}

# make_files SET COUNT SIZE: random files, not put.
make_files() {
    mkdir -p "/scratch/$1" && cd "/scratch/$1" || return 1
    i=1
    while [ "$i" -le "$2" ]; do
        head -c "$3" /dev/urandom >"f$i" || return 1
        i=$((i + 1))
    done
}

# slow_out FILE MIB: FILE to stdout, 1 MiB at a time, about 30 MiB/s.
slow_out() {
    i=0
    while [ "$i" -lt "$2" ]; do
        dd if="$1" bs=1048576 skip="$i" count=1 2>/dev/null || return 1
        i=$((i + 1))
        sleep 0.03
    done
}

# slow_in MIB: stdin to stdout, 1 MiB at a time, about 30 MiB/s.
slow_in() {
    i=0
    while [ "$i" -lt "$1" ]; do
        dd bs=1048576 count=1 iflag=fullblock 2>/dev/null
        i=$((i + 1))
        sleep 0.03
    done
}

# slow_put LOCAL MIB REMOTE BLOCKSIZE: a put fed at about 30 MiB/s; exit status is the put's.
slow_put() {
    slow_out "$1" "$2" | $H put -r 3 -b "$4" - "$3"
}

# slow_get REMOTE MIB OUT: a read drained at about 30 MiB/s; its SHA-256 to OUT, its exit
# status to OUT.rc.
slow_get() {
    { $H cat "$1"; echo $? >"$3.rc"; } | slow_in "$2" | sha256sum >"$3"
}
