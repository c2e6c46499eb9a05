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

# ha_loop SET SIZE BOUND: until /scratch/stop exists (at most 200 files), makes a random file of
# SIZE bytes, puts it as /drill/SET/fN (1 MiB blocks, replication 3) and reads it back. BOUND 0:
# a failed put is recorded and the loop goes on with the next file; BOUND > 0: a failed put (or
# read) is tried again (the put with -f), 0.2 s apart, until BOUND seconds have gone since the
# first try, and only then recorded as failed. Each try is killed after 60 s. Log, one line an
# operation, times from /proc/uptime (the host's clock too): "PUT N START END ok|fail TRIES WHY"
# (WHY: the last failed try's error, when there was one)
# and "GET N START END ok|bad|fail TRIES" in /scratch/SET.log, then DONE; the SHA-256 of every
# acknowledged file in /scratch/SET.sums, as put_files leaves it.
ha_loop() {
    mkdir -p "/scratch/$1" && $H mkdir -p "/drill/$1" && cd "/scratch/$1" || return 1
    : >"../$1.sums"
    : >"../$1.log"
    rm -f /scratch/stop
    i=1
    while [ ! -e /scratch/stop ] && [ "$i" -le 200 ]; do
        head -c "$2" /dev/urandom >"f$i" || return 1
        sum=$(sha256sum "f$i") && sum=${sum%% *}
        t0=$(now) tries=0 ok="" force=""
        while :; do
            tries=$((tries + 1))
            # shellcheck disable=SC2086 # $force: nothing or -f
            if timeout -s KILL 60 $H put $force -r 3 -b 1MiB "f$i" "/drill/$1/f$i" 2>"../$1.err"; then
                ok=1
                break
            fi
            cp "../$1.err" "../$1.err.last"
            awk -v a="$t0" -v b="$(now)" -v t="$3" 'BEGIN { exit !(b - a < t) }' || break
            force=-f
            sleep 0.2
        done
        if [ -z "$ok" ]; then
            echo "PUT $i $t0 $(now) fail $tries $(tail -n1 "../$1.err" | tr -d '\n')" >>"../$1.log"
            i=$((i + 1))
            continue
        fi
        why=""
        [ "$tries" -gt 1 ] && why=" $(tail -n1 "../$1.err.last" | tr -d '\n')"
        echo "PUT $i $t0 $(now) ok $tries$why" >>"../$1.log"
        echo "$sum  f$i" >>"../$1.sums"
        t0=$(now) tries=0
        while :; do
            tries=$((tries + 1))
            # shellcheck disable=SC2086 # $H: the command and its flag
            if out=$(timeout -s KILL 60 $H cat "/drill/$1/f$i" 2>"../$1.err" | sha256sum); then
                if [ "${out%% *}" = "$sum" ]; then got=ok; else got=bad; fi
            else
                got=fail
            fi
            [ "$got" = fail ] || break
            awk -v a="$t0" -v b="$(now)" -v t="$3" 'BEGIN { exit !(b - a < t) }' || break
            sleep 0.2
        done
        echo "GET $i $t0 $(now) $got $tries" >>"../$1.log"
        i=$((i + 1))
    done
    echo DONE >>"../$1.log"
}

# unacked SET: every file of SET whose put failed (ha_loop's log), as it is now in the cluster:
# "ABSENT N", "PREFIX N LENGTH" (a closed file holding the first LENGTH bytes of what was put:
# a put cut off, closed by lease recovery), or "BAD N WHY".
unacked() {
    cd "/scratch/$1" || return 1
    awk '$1 == "PUT" && $5 == "fail" { print $2 }' "../$1.log" | while read -r n; do
        if ! st=$($H stat "/drill/$1/f$n" 2>&1); then
            case $st in
                *"no such file"*) echo "ABSENT $n" ;;
                *) echo "BAD $n: stat failed: $st" ;;
            esac
            continue
        fi
        len=$(echo "$st" | awk '$1 == "length:" { print $2 }')
        got=$($H cat "/drill/$1/f$n" | sha256sum) || { echo "BAD $n: read failed"; continue; }
        want=$(head -c "$len" "f$n" | sha256sum)
        if [ "${got%% *}" = "${want%% *}" ]; then echo "PREFIX $n $len"; else echo "BAD $n: $len bytes that are not the start of the file put"; fi
    done
}
