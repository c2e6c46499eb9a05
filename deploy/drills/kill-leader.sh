# shellcheck shell=bash
# Sourced by drill.sh: the kill-leader scenario.

# The leading namenode is killed (SIGKILL) under a loop of 4 MiB puts and reads: another member
# is elected and writes go on within UNAVAILABLE_BOUND seconds, every acknowledged file is whole;
# started again, the killed member catches up.
UNAVAILABLE_BOUND=10
scenario_kill_leader() {
    start_cluster
    local victim cid t_kill up_kill t_start unavailable n
    await_leader 30
    victim=$LEADER
    cid=$(nn_container "$victim")
    start_loop ha 0
    wait_until 60 "the loop has 5 puts acknowledged" eval '[ "$(loop_acked)" -ge 5 ]'
    say "docker kill the leader $victim (container ${cid:0:12}) mid-loop"
    up_kill=$(uptime_now)
    t_kill=$EPOCHREALTIME
    docker kill "$cid" >/dev/null
    await_leader 30 "$victim"
    DETECT=$(since "$t_kill")
    say "$LEADER leads $DETECT s after the kill (haadmin from the client)"
    # The window: from the kill to the end of the first put that started after it and was
    # acknowledged (its create was the first after the kill, and succeeded before it ended).
    first_after() { loop_log | awk -v t="$up_kill" '$1 == "PUT" && $5 == "ok" && $3 >= t { printf "%.1f\n", $4 - t; exit }'; }
    wait_until 60 "a put started after the kill is acknowledged" eval '[ -n "$(first_after)" ]'
    unavailable=$(first_after)
    extra seconds_unavailable "$unavailable"
    say "unavailable for ${unavailable}s: from the kill to the end of the first put started after it"
    say "the puts around the kill (seconds from the kill):"
    loop_log | awk -v t="$up_kill" -v u="$unavailable" '$1 == "PUT" && $4 > t - 1 && $3 < t + u + 1 {
        w = ""; for (i = 7; i <= NF; i++) w = w " " $i
        printf "    put f%s: %+.2f .. %+.2f %s%s\n", $2, $3 - t, $4 - t, $5, w }' >&2
    n=$(loop_acked)
    wait_until 60 "5 more puts are acknowledged" eval '[ "$(loop_acked)" -ge $((n + 5)) ]'
    say "docker start $victim"
    t_start=$EPOCHREALTIME
    docker start "$cid" >/dev/null
    await_caught_up 60 "$victim"
    FULL=$(since "$t_start")
    stop_loop
    check_loop
    wait_until 60 "no file is open (a put cut off is closed by lease recovery)" fsck_q no-open-files
    check_whole
    awk -v u="$unavailable" -v b="$UNAVAILABLE_BOUND" 'BEGIN { exit !(u <= b) }' ||
        fail_later "writes were unavailable for ${unavailable}s after the leader was killed (bound ${UNAVAILABLE_BOUND}s)"
}
