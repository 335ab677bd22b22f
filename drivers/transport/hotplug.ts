/**
 * USB hot-plug hints from the `usb` package (libusb). An attach/detach only *hints* that a reconnect
 * may now succeed; the connection's backoff loop works without it (e.g. a pty, or no libusb hotplug).
 */
export interface HotplugSource {
  /** Calls fn on any USB attach or detach; returns an unsubscribe. */
  subscribe(fn: (event: 'attach' | 'detach', id: { vendorId: number; productId: number }) => void): () => void;
}

/** Hot-plug from libusb. If libusb or its hotplug support is missing, it silently gives no events. */
export function usbHotplug(): HotplugSource {
  return {
    subscribe(fn) {
      let stop = () => undefined as void;
      let cancelled = false;
      import('usb')
        .then(({ usb }) => {
          if (cancelled) return;
          const attach = (d: { deviceDescriptor: { idVendor: number; idProduct: number } }) => fn('attach', { vendorId: d.deviceDescriptor.idVendor, productId: d.deviceDescriptor.idProduct });
          const detach = (d: { deviceDescriptor: { idVendor: number; idProduct: number } }) => fn('detach', { vendorId: d.deviceDescriptor.idVendor, productId: d.deviceDescriptor.idProduct });
          usb.on('attach', attach);
          usb.on('detach', detach);
          stop = () => {
            usb.off('attach', attach);
            usb.off('detach', detach);
          };
        })
        .catch(() => undefined);
      return () => {
        cancelled = true;
        stop();
      };
    },
  };
}

/** A hot-plug source driven by hand (tests, simulator). */
export class ManualHotplug implements HotplugSource {
  private readonly fns = new Set<(event: 'attach' | 'detach', id: { vendorId: number; productId: number }) => void>();
  subscribe(fn: (event: 'attach' | 'detach', id: { vendorId: number; productId: number }) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  fire(event: 'attach' | 'detach', id = { vendorId: 0, productId: 0 }): void {
    for (const fn of this.fns) fn(event, id);
  }
}
