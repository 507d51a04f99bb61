#!/usr/bin/env bash
# RabbitMQ 4.0.5 (Debian trixie's rabbitmq-server, Erlang 27) in a debootstrap chroot, next to
# (never instead of) the machine's own RabbitMQ on 5672/4369.
#
#   scripts/rabbitmq4.sh setup              debootstrap trixie into .rabbitmq4/trixie, install rabbitmq-server
#   scripts/rabbitmq4.sh start [--khepri]   start rabbit4@localhost on 127.0.0.1:5673 (fresh data each time)
#   scripts/rabbitmq4.sh stop               stop it by its recorded pids, unmount /proc, /dev, ... of the chroot
#   scripts/rabbitmq4.sh test [--khepri]    start, run RegistryContractTest against it, stop (also on failure)
#   scripts/rabbitmq4.sh probe [--khepri]   start, run scripts/Rmq4Probe.java (queue declarations, inbox alternatives), stop
#   scripts/rabbitmq4.sh ctl ARGS...        rabbitmqctl inside the chroot, against rabbit4@localhost
#
# The broker shares the root network namespace but only binds loopback: AMQP 127.0.0.1:5673, its own
# epmd on 127.0.0.1:4370 (ERL_EPMD_PORT), Erlang distribution on 127.0.0.1:25673. The node
# rabbit@localhost (5672, epmd 4369, dist 25672) is never contacted. Needs root (chroot, mount).
#
# Broker config (/etc/rabbitmq/rabbitmq.conf in the chroot): loopback_users = none and
# deprecated_features.permit.transient_nonexcl_queues = false, i.e. transient non-exclusive queues
# are refused as RabbitMQ 4.3 will refuse them (RABBITMQ4_PERMIT_TRANSIENT=true for a control run that
# permits them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/.." && pwd)
state=${RABBITMQ4_DIR:-$project/.rabbitmq4}
root=$state/trixie
mirror=${RABBITMQ4_MIRROR:-http://deb.debian.org/debian}
suite=trixie

amqp_port=5673
epmd_port=4370
dist_port=25673
node=rabbit4@localhost
pidfile=$state/pids
# RABBITMQ4_PERMIT_TRANSIENT=true: a control run with transient non-exclusive queues allowed (4.0's default).
# RABBITMQ4_LIVENESS (test): the rules RegistryContractTest runs under, default LEASE (what liveness auto picks on
# 4.x; its inbox is exclusive). BROKER's inbox is a transient non-exclusive queue: with them denied, as in 4.3,
# a node under it cannot start: run RABBITMQ4_LIVENESS=BROKER,LEASE with RABBITMQ4_PERMIT_TRANSIENT=true.
permit_transient=${RABBITMQ4_PERMIT_TRANSIENT:-false}
log=$state/broker.log

# The environment every program inside the chroot gets (server and CLI alike).
chroot_env=(
    env -i
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME=/var/lib/rabbitmq LANG=C.UTF-8 LC_ALL=C.UTF-8
    ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1
    RABBITMQ_NODENAME=$node
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port
    RABBITMQ_DIST_PORT=$dist_port
    # Erlang distribution (server and CLI) on loopback only.
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
)

say() { printf '[rabbitmq4] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

in_chroot() { chroot "$root" "${chroot_env[@]}" "$@"; }
# The chroot's rabbitmq user as uid:gid, from the chroot's own /etc/passwd (the host's differ).
rabbitmq_ids() { awk -F: '$1 == "rabbitmq" {print $3 ":" $4}' "$root/etc/passwd"; }
# As the chroot's rabbitmq user, in its home (where its Erlang cookie is).
as_rabbitmq() { chroot --userspec="$(rabbitmq_ids)" "$root" env -C /var/lib/rabbitmq "${chroot_env[@]}" "$@"; }
ctl() { as_rabbitmq /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

# ---------------------------------------------------------------------------------------------- setup

cmd_setup() {
    [ "$(id -u)" = 0 ] || die "setup needs root (debootstrap, chroot)"
    local t0=$SECONDS
    mkdir -p "$state"
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap on the host"
        apt-get install -y debootstrap >/dev/null
    fi
    if [ -x "$root/usr/bin/apt-get" ] && [ -e "$root/.debootstrap-done" ]; then
        say "chroot $root exists: skipping debootstrap"
    else
        say "debootstrap --variant=minbase $suite $root $mirror"
        rm -rf "$root"
        local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
        if ! debootstrap --variant=minbase --keyring="$keyring" "$suite" "$root" "$mirror" \
                >"$state/debootstrap.log" 2>&1; then
            tail -n 30 "$state/debootstrap.log" >&2
            die "debootstrap failed (full log: $state/debootstrap.log)"
        fi
        touch "$root/.debootstrap-done"
        say "debootstrap done after $((SECONDS - t0)) s"
    fi
    # Never let a package's maintainer script start a service from the chroot (it would race the host's
    # RabbitMQ for 5672/4369): policy-rc.d 101 = "action forbidden".
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    grep -q '^127.0.0.1[[:space:]].*localhost' "$root/etc/hosts" 2>/dev/null \
        || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >>"$root/etc/hosts"
    if in_chroot dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q 'install ok installed'; then
        say "rabbitmq-server already installed in the chroot: skipping apt-get"
    else
        mount_chroot
        trap umount_chroot EXIT
        say "apt-get install rabbitmq-server (in the chroot)"
        in_chroot DEBIAN_FRONTEND=noninteractive apt-get update -q >"$state/apt.log" 2>&1 \
            || { tail -n 20 "$state/apt.log" >&2; die "apt-get update failed in the chroot"; }
        in_chroot DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rabbitmq-server \
            >>"$state/apt.log" 2>&1 \
            || { tail -n 30 "$state/apt.log" >&2; die "apt-get install rabbitmq-server failed in the chroot"; }
        umount_chroot
        trap - EXIT
    fi
    write_config
    say "rabbitmq-server $(in_chroot dpkg-query -W -f='${Version}' rabbitmq-server)," \
        "erlang-base $(in_chroot dpkg-query -W -f='${Version}' erlang-base)," \
        "OTP $(in_chroot sh -c 'cat /usr/lib/erlang/releases/*/OTP_VERSION' 2>/dev/null | head -n1)"
    say "setup took $((SECONDS - t0)) s"
}

write_config() {
    mkdir -p "$root/etc/rabbitmq"
    cat >"$root/etc/rabbitmq/rabbitmq.conf" <<EOF
# Written by scripts/rabbitmq4.sh
listeners.tcp.1 = 127.0.0.1:$amqp_port
loopback_users = none
deprecated_features.permit.transient_nonexcl_queues = $permit_transient
EOF
    # The CLI reads these too, so rabbitmqctl in the chroot finds rabbit4@localhost via epmd on 4370.
    cat >"$root/etc/rabbitmq/rabbitmq-env.conf" <<EOF
# Written by scripts/rabbitmq4.sh
NODENAME=$node
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$amqp_port
DIST_PORT=$dist_port
export ERL_EPMD_PORT=$epmd_port
export ERL_EPMD_ADDRESS=127.0.0.1
EOF
}

# ------------------------------------------------------------------------------------------- mounts

mounted() { mountpoint -q "$1"; }

mount_chroot() {
    mounted "$root/proc" || mount -t proc proc "$root/proc"
    mounted "$root/sys" || mount -t sysfs sysfs "$root/sys"
    mounted "$root/dev" || mount --bind /dev "$root/dev"
    mounted "$root/dev/pts" || mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || true
}

umount_chroot() {
    local m
    for m in dev/pts dev sys proc; do
        if mounted "$root/$m"; then
            umount "$root/$m" || umount -l "$root/$m"
        fi
    done
}

# ------------------------------------------------------------------------------------- start / stop

# Whether something answers AMQP on 127.0.0.1:$amqp_port: send the protocol header, expect connection.start.
amqp_answers() {
    timeout 3 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/'"$amqp_port"' || exit 1
        printf "AMQP\0\0\x09\x01" >&3
        head -c 7 <&3 | od -An -tx1 | tr -d " \n" | grep -q "^0100000000"' 2>/dev/null
}

port_in_use() { ss -Hltn "sport = :$1" | grep -q .; }

# The pids of the processes whose root is our chroot (our epmd, beam.smp, erl_child_setup, inet_gethost...).
chroot_pids() {
    local p r real
    real=$(readlink -f "$root")
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$real" ] && echo "${p#/proc/}"
    done
    return 0
}

cmd_start() {
    local khepri=false
    [ "${1:-}" = --khepri ] && khepri=true
    [ "$(id -u)" = 0 ] || die "start needs root (chroot, mount)"
    in_chroot_ok || die "no RabbitMQ in $root: run '$0 setup' first"
    if [ -s "$pidfile" ]; then
        die "$pidfile exists (pids $(tr '\n' ' ' <"$pidfile")): run '$0 stop' first"
    fi
    local p
    for p in $amqp_port $epmd_port $dist_port; do
        port_in_use "$p" && die "port $p is already in use on this machine: not starting"
    done
    write_config
    mount_chroot
    # A fresh node every time (a khepri_db flag, once enabled, cannot be disabled).
    rm -rf "$root/var/lib/rabbitmq/mnesia"
    : >"$log"
    : >"$pidfile"

    # Our own epmd, in the foreground of its own session, so its pid is the one we recorded.
    setsid chroot --userspec="$(rabbitmq_ids)" "$root" "${chroot_env[@]}" epmd -port "$epmd_port" -address 127.0.0.1 \
        >>"$state/epmd.log" 2>&1 </dev/null &
    echo "epmd $!" >>"$pidfile"
    local i
    for i in $(seq 50); do port_in_use "$epmd_port" && break; sleep 0.1; done
    port_in_use "$epmd_port" || { cmd_stop; die "epmd did not listen on $epmd_port"; }

    say "starting $node on 127.0.0.1:$amqp_port (epmd 127.0.0.1:$epmd_port, dist $dist_port); log $log"
    # RUNNING_UNDER_SYSTEMD: the start script execs erl (no signal-forwarding shell in between), so the
    # pid recorded here is beam.smp's own (chroot, env, sh, erl and erlexec all exec).
    setsid chroot --userspec="$(rabbitmq_ids)" "$root" env -C /var/lib/rabbitmq "${chroot_env[@]}" \
        RABBITMQ_LOGS=- RUNNING_UNDER_SYSTEMD=true /usr/lib/rabbitmq/bin/rabbitmq-server \
        >>"$log" 2>&1 </dev/null &
    echo "server $!" >>"$pidfile"
    local t0=$SECONDS
    until amqp_answers; do
        if ! kill -0 "$(awk '$1 == "server" {print $2}' "$pidfile")" 2>/dev/null; then
            tail -n 40 "$log" >&2
            cmd_stop
            die "the broker exited while starting"
        fi
        if [ $((SECONDS - t0)) -gt 120 ]; then
            tail -n 40 "$log" >&2
            cmd_stop
            die "no AMQP answer on 127.0.0.1:$amqp_port within 120 s"
        fi
        sleep 0.5
    done
    local beam
    beam=$(pgrep_beam)
    [ -n "$beam" ] && ! grep -qw "$beam" "$pidfile" && echo "beam $beam" >>"$pidfile"
    say "AMQP answers on 127.0.0.1:$amqp_port after $((SECONDS - t0)) s (beam.smp pid ${beam:-?})"
    ctl -q await_startup >/dev/null 2>&1 || true
    if $khepri; then
        say "rabbitmqctl enable_feature_flag khepri_db"
        if ! ctl enable_feature_flag khepri_db 2>&1 | sed 's/^/    /' >&2 \
                || ! khepri_enabled; then
            say "retrying with --experimental"
            ctl enable_feature_flag --experimental khepri_db 2>&1 | sed 's/^/    /' >&2 || true
        fi
        khepri_enabled || { cmd_stop; die "could not enable khepri_db"; }
        say "khepri_db enabled"
        until amqp_answers; do sleep 0.5; done
    fi
    say "$(ctl -q version 2>/dev/null | head -n1 | sed 's/^/RabbitMQ /') running;" \
        "pids: $(tr '\n' ' ' <"$pidfile")"
}

in_chroot_ok() { [ -x "$root/usr/sbin/rabbitmq-server" ]; }

khepri_enabled() {
    ctl -q list_feature_flags name state 2>/dev/null | awk '$1 == "khepri_db" {print $2}' \
        | grep -q enabled
}

pgrep_beam() {
    local p
    for p in $(chroot_pids); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = beam.smp ] && { echo "$p"; return; }
    done
}

cmd_stop() {
    local what pid pids=()
    if [ -s "$pidfile" ]; then
        while read -r what pid; do
            [ -n "$pid" ] && pids+=("$pid")
        done <"$pidfile"
    fi
    # Graceful first: rabbitmqctl stop (the node only, by name, through our own epmd).
    if [ ${#pids[@]} -gt 0 ] && port_in_use "$epmd_port"; then
        ctl -q stop >/dev/null 2>&1 || true
    fi
    # Then our recorded pids (server wrapper, beam, epmd), TERM then KILL.
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    done
    local i alive
    for i in $(seq 50); do
        alive=false
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=true; done
        $alive || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && { say "pid $pid still alive: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
    done
    # Anything else still rooted in our chroot was started by the broker (erl_child_setup, inet_gethost,
    # a CLI's leftovers): its pid is found by its root directory, never by its name.
    local leftover
    for i in $(seq 25); do
        leftover=$(chroot_pids)
        [ -z "$leftover" ] && break
        sleep 0.2
    done
    for pid in $leftover; do
        say "stopping leftover chroot process $pid ($(cat /proc/$pid/comm 2>/dev/null))"
        kill -KILL "$pid" 2>/dev/null || true
    done
    sleep 0.2
    umount_chroot
    rm -f "$pidfile"
    say "stopped${pids[*]:+ (pids ${pids[*]})}; mounts cleaned"
}

# -------------------------------------------------------------------------------------------- test

cmd_test() {
    local rc=0
    cmd_start "$@"
    trap cmd_stop EXIT
    cd "$project"
    if [ ! -d "$HOME/.m2/repository/io/globalregistry" ] || [ "${RABBITMQ4_BUILD:-}" = 1 ]; then
        say "mvn -B -q install -DskipTests"
        mvn -B -q install -DskipTests || { rc=$?; say "build failed"; return $rc; }
    fi
    say "RegistryContractTest against 127.0.0.1:$amqp_port$([ "${1:-}" = --khepri ] && echo ' (khepri)')"
    # CI=true: TestBroker must fail instead of silently falling back to embedded Qpid.
    CI=true SPRING_RABBITMQ_HOST=127.0.0.1 SPRING_RABBITMQ_PORT=$amqp_port \
        mvn -B -o -pl registry-core -am test -Dtest='RegistryContractTest' -Dcontract.liveness="${RABBITMQ4_LIVENESS:-LEASE}" \
            -Dsurefire.failIfNoSpecifiedTests=false || rc=$?
    say "contract tests exit code $rc"
    return $rc
}

# ------------------------------------------------------------------------------------------- probe

cmd_probe() {
    cmd_start "$@"
    trap cmd_stop EXIT
    cd "$project"
    local cp=$state/probe.classpath
    if [ ! -s "$cp" ]; then
        mvn -B -o -q -pl registry-core dependency:build-classpath -Dmdep.outputFile="$cp.all" >/dev/null
        tr ':' '\n' <"$cp.all" | grep -E '/(amqp-client|netty-[a-z-]+|slf4j-api)-[0-9][^/]*\.jar$' | paste -sd: >"$cp"
        rm -f "$cp.all"
    fi
    say "probe against 127.0.0.1:$amqp_port$([ "${1:-}" = --khepri ] && echo ' (khepri)')"
    java -cp "$(cat "$cp")" "$here/Rmq4Probe.java" 127.0.0.1 "$amqp_port" 2>&1 | grep -v '^SLF4J'
}

# -------------------------------------------------------------------------------------------- main

case "${1:-}" in
    setup) shift; cmd_setup "$@" ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    test) shift; cmd_test "$@" ;;
    probe) shift; cmd_probe "$@" ;;
    ctl) shift; ctl "$@" ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
