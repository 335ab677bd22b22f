#!/bin/sh
# deb post-remove: take the udev rules away again.
rm -f /etc/udev/rules.d/99-palmpay.rules
command -v udevadm >/dev/null 2>&1 && udevadm control --reload-rules || true
