#!/usr/bin/env bash
# Runs a command on Debian's own kernel (linux-image-amd64, which has
# sch_fq) in qemu under TCG, with this machine's root file system shared
# read-only and a tmpfs overlay on top (DESIGN.md section 5). The command
# runs as root in the repository directory; its output is streamed back and
# its exit code becomes ours.
# Usage: run-in-vm.sh COMMAND [ARG...]
#   exit 77 when qemu or the kernel package is not installed (a skip).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)

kernel=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -1 || true)
if ! command -v qemu-system-x86_64 >/dev/null || [[ -z $kernel ]] || ! command -v busybox >/dev/null; then
  echo "run-in-vm: qemu-system-x86, linux-image-amd64 or busybox-static is not installed (scripts/install-deps.sh vm installs them)" >&2
  exit 77
fi
kver=${kernel#/boot/vmlinuz-}

state=$(mktemp -d /tmp/bwalloc-vm.XXXXXX)
trap 'rm -rf "$state"' EXIT
"$repo/scripts/vm/build-initramfs.sh" "$kver" "$state/initrd.gz"

mkdir -p "$state/share"
printf '%q ' "$@" > "$state/share/command"
cat > "$state/share/guest.sh" <<GUEST
#!/bin/bash
# Runs inside the VM after switch_root.
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mount -t devtmpfs dev /dev 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
# /tmp stays the host's (through the overlay): the repository may live there.
mount -t tmpfs tmpfs /run/netns 2>/dev/null || { mkdir -p /run/netns; }
ip link set lo up
cd "$repo"
bash -c "\$(cat /run/vm-results/command)" > /run/vm-results/output 2>&1
echo \$? > /run/vm-results/exit
poweroff -f
GUEST
chmod +x "$state/share/guest.sh"

# The VM's console only shows the kernel; the command's output comes back
# through the shared folder once it has run.
timeout 1500 qemu-system-x86_64 -machine q35 -accel tcg -m 3072 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$state/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs local,path="$state/share",mount_tag=results,security_model=passthrough,multidevs=remap \
  > "$state/console.log" 2>&1 || true
if [[ ! -f $state/share/exit ]]; then
  echo "run-in-vm: the VM did not finish the command; its console said:" >&2
  tail -30 "$state/console.log" >&2
  exit 1
fi
cat "$state/share/output"
exit "$(cat "$state/share/exit")"
