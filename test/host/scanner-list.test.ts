// What `palmpay scanner list` marks as known, and what `--scanner auto` takes: a known HID vendor first, then a
// serial port behind a known USB bridge; unknown devices are listed but never taken.
import { describe, expect, it } from 'vitest';
import { summariseDevices } from '../../src/host/adapters/scanner.ts';

describe('scanner listing', () => {
  it('nothing known: listed, not taken', () => {
    const l = summariseDevices([{ path: '/dev/ttyS0' }, { path: '/dev/ttyUSB3', vendorId: 0x1234, productId: 0x5678 }], [{ vendorId: 0x046d, productId: 0xc52b, product: 'Mouse' }]);
    expect(l.serial_ports.map((p) => [p.path, p.usb_id, p.known_bridge])).toEqual([['/dev/ttyS0', null, false], ['/dev/ttyUSB3', '1234:5678', false]]);
    expect(l.hid_devices[0]).toMatchObject({ usb_id: '046d:c52b', known_vendor: false, product: 'Mouse' });
    expect(l.auto_would_pick).toBeNull();
  });

  it('a serial port behind a known bridge is taken', () => {
    const l = summariseDevices([{ path: '/dev/ttyS0' }, { path: '/dev/ttyUSB0', vendorId: 0x10c4, productId: 0xea60, manufacturer: 'Silicon Labs' }], []);
    expect(l.auto_would_pick).toBe('serial:/dev/ttyUSB0');
    expect(l.serial_ports[1]).toMatchObject({ known_bridge: true, manufacturer: 'Silicon Labs' });
  });

  it('a known HID image scanner comes before a serial bridge', () => {
    const l = summariseDevices([{ path: '/dev/ttyUSB0', vendorId: 0x10c4, productId: 0xea60 }], [{ vendorId: 0x04c5, productId: 0x1526, path: '/dev/hidraw2' }], null);
    expect(l.auto_would_pick).toBe('hid:04c5:1526');
  });

  it('says why HID devices could not be listed', () => {
    expect(summariseDevices([], [], 'libusb missing').hid_error).toBe('libusb missing');
  });
});
