#!/bin/sh
# deb post-install: install the udev rules for scanners and serial modules, and apply them now.
set -e
install -m 0644 "/opt/PalmPay/resources/udev/99-palmpay.rules" /etc/udev/rules.d/99-palmpay.rules
if command -v udevadm >/dev/null 2>&1; then
  udevadm control --reload-rules || true
  udevadm trigger --subsystem-match=hidraw --subsystem-match=tty --subsystem-match=usb || true
fi
