// `palmpay printer list`: a technician's look at what could be the counter's receipt printer (USB printer nodes,
// serial ports, USB printer-class devices) and which one `--printer auto` would take (the same rule it uses).
import type { Command } from 'commander';

export function registerPrinter(program: Command): void {
  const printer = program.command('printer').description('receipt printers: what is plugged in and what --printer auto would take');
  printer
    .command('list')
    .description('list /dev/usb/lp* nodes, serial ports and USB printer-class devices, and what --printer auto would take')
    .option('--json', 'print JSON to stdout')
    .action(async (opts: { json?: boolean }) => {
      const { listPrinters } = await import('../../host/printer-choice.ts');
      const l = await listPrinters();
      if (opts.json) return console.log(JSON.stringify(l, null, 2));
      const maker = (m: string | null) => (m ? ` (${m}, a receipt printer maker)` : '');
      for (const n of l.usb_printer_nodes) console.log(`usb-printer ${n.path} ${n.usb_id ?? '----:----'}${maker(n.receipt_printer_maker)}`);
      for (const p of l.serial_ports) console.log(`serial ${p.path} ${p.usb_id ?? '----:----'} ${p.manufacturer ?? ''}${maker(p.receipt_printer_maker)}`.trim());
      for (const d of l.usb_printer_devices) console.log(`usb ${d.usb_id} bus ${d.bus} address ${d.address} ${d.node ? `-> ${d.node}` : '(no /dev/usb/lp node: usblp driver not bound)'}`);
      console.log(`--printer auto would take: ${l.auto_would_pick ? `${l.auto_would_pick.printer} (${l.auto_would_pick.why})` : 'nothing (receipts would go to receipts.log)'}`);
    });
}
