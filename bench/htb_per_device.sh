#!/usr/bin/env bash
# The original system's way of limiting a device, as an operator would
# write it by hand: one HTB class per device with u32 filters on its IP;
# download on the LAN interface's egress, upload on an ifb that LAN ingress
# is redirected to. The bench runs it on the same virtual LAN as bwalloc so
# the two methods are compared in one run.
# Usage: htb_per_device.sh NETNS setup
#        htb_per_device.sh NETNS limit DEVICE_IPV4 MBIT [LEAF_QDISC [ARG...]]
#        htb_per_device.sh NETNS clear
# Without LEAF_QDISC each class keeps HTB's default leaf, a pfifo as long as
# the interface's txqueuelen (the original's method); with one (e.g.
# "fq_codel", "cake besteffort") the class gets that leaf instead, as
# LibreQoS-style HTB + cake setups do. Several devices may be limited.
set -euo pipefail

ns=$1 action=$2
lan=lan0 ifb=ifb-bwbench
tcn() { ip netns exec "$ns" tc "$@"; }

case "$action" in
  setup)
    ip netns exec "$ns" ip link add "$ifb" type ifb
    ip netns exec "$ns" ip link set "$ifb" up
    for dev in "$lan" "$ifb"; do
      tcn qdisc add dev "$dev" root handle 1: htb default 99
      # An explicit quantum: r2q's default would make it megabytes at 10 Gbit/s.
      tcn class add dev "$dev" parent 1: classid 1:1 htb rate 10gbit quantum 60000
      # Traffic of devices without a class of their own.
      tcn class add dev "$dev" parent 1:1 classid 1:99 htb rate 10gbit quantum 60000
    done
    tcn qdisc add dev "$lan" handle ffff: ingress
    # u32 matching everything (this kernel has no matchall classifier).
    tcn filter add dev "$lan" parent ffff: protocol all u32 match u32 0 0 \
      action mirred egress redirect dev "$ifb"
    ;;
  limit)
    ip=$3 mbit=$4
    leaf=("${@:5}")
    [[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { echo "not an IPv4 address: $ip" >&2; exit 2; }
    [[ $mbit =~ ^[0-9]+$ && $mbit -gt 0 ]] || { echo "not a rate in Mbit/s: $mbit" >&2; exit 2; }
    # One class per device: the last octet makes the class id (and the
    # filter's priority, so each device's filter is replaced on its own)
    # unique on a /24.
    octet=${ip##*.}
    id=$((0x100 + octet))
    classid=$(printf '1:%x' "$id")
    for side in "$lan dst" "$ifb src"; do
      read -r dev match <<<"$side"
      tcn class replace dev "$dev" parent 1:1 classid "$classid" htb rate "${mbit}mbit" ceil "${mbit}mbit" \
        quantum $((mbit * 125000 / 10 < 60000 ? mbit * 125000 / 10 : 60000))
      if ((${#leaf[@]})); then
        tcn qdisc replace dev "$dev" parent "$classid" handle "$(printf '%x' "$id"):" "${leaf[@]}"
      fi
      tcn filter del dev "$dev" parent 1: prio $((10 + octet)) 2>/dev/null || true
      tcn filter add dev "$dev" parent 1: protocol ip prio $((10 + octet)) u32 match ip "$match" "$ip/32" \
        flowid "$classid"
    done
    ;;
  clear)
    tcn qdisc del dev "$lan" root 2>/dev/null || true
    tcn qdisc del dev "$lan" ingress 2>/dev/null || true
    ip netns exec "$ns" ip link del "$ifb" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 NETNS setup|limit IP MBIT|clear" >&2
    exit 2
    ;;
esac
