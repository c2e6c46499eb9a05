# shellcheck shell=bash
# Sourced by drill.sh: the rolling-restart-namenodes scenario.

# Every namenode restarted in turn (docker restart; back and caught up with the leader before the
# next one goes), as in an upgrade, under a loop of 4 MiB puts and reads that retries each file
# for up to FILE_BOUND seconds: no file may fail for good, every acknowledged one reads back.
FILE_BOUND=60
scenario_rolling_restart_namenodes() {
    start_cluster
    local s cid role t0 took worst=0 n
    await_leader 30
    start_loop roll "$FILE_BOUND"
    wait_until 60 "the loop has 5 puts acknowledged" eval '[ "$(loop_acked)" -ge 5 ]'
    for s in $NN_SERVICES; do
        cid=$(nn_container "$s")
        role=$(group_q member "$s" role)
        say "docker restart $s (the $role, container ${cid:0:12})"
        t0=$EPOCHREALTIME
        docker restart -t 10 "$cid" >/dev/null
        await_caught_up 60 "$s"
        took=$(since "$t0")
        worst=$(awk -v a="$worst" -v b="$took" 'BEGIN { print (b > a) ? b : a }')
        n=$(loop_acked)
        wait_until 60 "the loop has another put acknowledged" eval '[ "$(loop_acked)" -gt '"$n"' ]'
    done
    FULL=$worst
    stop_loop
    check_loop
    [ "$PUTS_FAILED" = 0 ] || fail "$PUTS_FAILED files of the loop failed for good (each retried for ${FILE_BOUND}s)"
    wait_until 60 "no file is open (lease recovery)" fsck_q no-open-files
    check_whole
}
