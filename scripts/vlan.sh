#!/usr/bin/env bash
# The virtual LAN of DESIGN.md section 6, in network namespaces:
#   ${P}devN (eth0 10.10.0.(10+N)/24, fd00:10::(10+N)/64)
#     -> bridge in ${P}sw
#     -> lan0 of ${P}rtr (10.10.0.1, fd00:10::1; forwarding, NAT on wan0)
#     -> ${P}inet (eth0 198.51.100.2/24, fd00:51::2/64: iperf3 servers run here)
# Traffic never leaves these namespaces.
#
# Usage: vlan.sh up|down|status [--prefix P] [--devices N]
set -euo pipefail

action=${1:-}
shift || true
prefix=bwa-
devices=8
while (($#)); do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --devices) devices=${2:?--devices needs a value}; shift 2 ;;
    *) echo "vlan.sh: unknown option $1 (accepted: --prefix P, --devices N)" >&2; exit 2 ;;
  esac
done
if ! [[ $prefix =~ ^[a-z0-9-]{1,8}$ ]]; then
  echo "vlan.sh: --prefix must be 1-8 characters of a-z, 0-9, '-'" >&2; exit 2
fi
if ! [[ $devices =~ ^[0-9]+$ ]] || ((devices < 1 || devices > 200)); then
  echo "vlan.sh: --devices must be 1..200" >&2; exit 2
fi

ns_list() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix}(dev[0-9]+|sw|rtr|inet)$" || true; }

down() {
  local ns
  for ns in $(ns_list); do
    # Deleting a namespace deletes its interfaces; veth peers go with them.
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  done
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

quiet_sysctl() { in_ns "$1" sysctl -q -w "$2" >/dev/null; }

up() {
  down
  local rtr=${prefix}rtr sw=${prefix}sw inet=${prefix}inet
  ip netns add "$rtr"
  ip netns add "$sw"
  ip netns add "$inet"
  for ns in "$rtr" "$sw" "$inet"; do in_ns "$ns" ip link set lo up; done

  in_ns "$sw" ip link add br0 type bridge
  in_ns "$sw" ip link set br0 up

  # Router: lan0 faces the switch, wan0 faces the internet side.
  ip link add lan0 netns "$rtr" type veth peer name p-rtr netns "$sw"
  ip link add wan0 netns "$rtr" type veth peer name eth0 netns "$inet"
  in_ns "$sw" ip link set p-rtr master br0 up
  quiet_sysctl "$rtr" net.ipv6.conf.all.accept_dad=0
  quiet_sysctl "$rtr" net.ipv6.conf.default.accept_dad=0
  quiet_sysctl "$inet" net.ipv6.conf.all.accept_dad=0
  quiet_sysctl "$inet" net.ipv6.conf.default.accept_dad=0
  in_ns "$rtr" ip addr add 10.10.0.1/24 dev lan0
  in_ns "$rtr" ip addr add fd00:10::1/64 dev lan0 nodad
  in_ns "$rtr" ip addr add 198.51.100.1/24 dev wan0
  in_ns "$rtr" ip addr add fd00:51::1/64 dev wan0 nodad
  in_ns "$rtr" ip link set lan0 up
  in_ns "$rtr" ip link set wan0 up
  # The uplink's far end is the router's default gateway (the agent probes it).
  in_ns "$rtr" ip route add default via 198.51.100.2
  quiet_sysctl "$rtr" net.ipv4.ip_forward=1
  quiet_sysctl "$rtr" net.ipv6.conf.all.forwarding=1
  in_ns "$rtr" nft -f - <<NFT
table ip bwalloc_vlan {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" masquerade
  }
}
NFT

  in_ns "$inet" ip addr add 198.51.100.2/24 dev eth0
  in_ns "$inet" ip addr add fd00:51::2/64 dev eth0 nodad
  in_ns "$inet" ip link set eth0 up
  in_ns "$inet" ip route add default via 198.51.100.1
  in_ns "$inet" ip -6 route add fd00:10::/64 via fd00:51::1

  local n dev
  for ((n = 1; n <= devices; n++)); do
    dev=${prefix}dev$n
    ip netns add "$dev"
    in_ns "$dev" ip link set lo up
    quiet_sysctl "$dev" net.ipv6.conf.all.accept_dad=0
    quiet_sysctl "$dev" net.ipv6.conf.default.accept_dad=0
    ip link add eth0 netns "$dev" type veth peer name "p-dev$n" netns "$sw"
    in_ns "$sw" ip link set "p-dev$n" master br0 up
    in_ns "$dev" ip addr add "10.10.0.$((10 + n))/24" dev eth0
    in_ns "$dev" ip addr add "fd00:10::$((10 + n))/64" dev eth0 nodad
    in_ns "$dev" ip link set eth0 up
    in_ns "$dev" ip route add default via 10.10.0.1
    in_ns "$dev" ip -6 route add default via fd00:10::1
  done
}

status() {
  local found
  found=$(ns_list)
  if [[ -z $found ]]; then echo "no virtual LAN with prefix $prefix"; return 0; fi
  echo "$found"
}

case "$action" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: vlan.sh up|down|status [--prefix P] [--devices N]" >&2; exit 2 ;;
esac
