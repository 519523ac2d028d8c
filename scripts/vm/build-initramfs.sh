#!/usr/bin/env bash
# Builds the small initramfs that boots Debian's kernel in qemu with the
# host's root file system shared read-only over virtio 9p (DESIGN.md
# section 5): busybox, the modules virtio 9p and overlayfs need (resolved
# from modules.dep, in load order) and an /init that overlays a tmpfs on
# the shared root and switches to it.
# Usage: build-initramfs.sh KERNEL_VERSION OUTPUT.cpio.gz
set -euo pipefail
kver=${1:?kernel version}
out=${2:?output file}
moddir=/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || { echo "build-initramfs: no modules for $kver (install linux-image-amd64)" >&2; exit 1; }
command -v busybox >/dev/null || { echo "build-initramfs: busybox-static is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,proc,sys,dev,host,upper,newroot,lib/modules}
cp "$(command -v busybox)" "$work/bin/busybox"

# Depth-first over modules.dep so every module follows its dependencies.
declare -A seen=()
order=()
add_module() {
  local path=$1 deps dep
  [[ -n ${seen[$path]:-} ]] && return
  seen[$path]=1
  deps=$(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$moddir/modules.dep")
  for dep in $deps; do add_module "$dep"; done
  order+=("$path")
}
for name in virtio_pci 9pnet_virtio 9p overlay; do
  path=$(grep -E "/$name\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
  [[ -n $path ]] || { echo "build-initramfs: module $name not found for $kver" >&2; exit 1; }
  add_module "$path"
done
for path in "${order[@]}"; do
  cp "$moddir/$path" "$work/lib/modules/$(basename "$path")"
  echo "$(basename "$path")" >> "$work/modules.order"
done

cat > "$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m || echo "init: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || { echo "init: cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o size=1G tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w /newroot
mkdir -p /newroot/run/vm-results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /newroot/run/vm-results
exec switch_root /newroot /bin/bash /run/vm-results/guest.sh
INIT
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
