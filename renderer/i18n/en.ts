// English messages. This file defines the message shape: ar.ts and ku.ts must have every key (typechecked).
export const en = {
  app: { title: 'PalmPay', tagline: 'Palm-vein payments' },
  language: { self: 'English', label: 'Language' },
  digits: { label: 'Digits', arab: 'Arabic-Indic', latn: 'Latin' },
  home: { heading: 'Choose a task' },
  role: {
    salary: { title: 'Salary', hint: 'Pay an employee’s salary' },
    purchase: { title: 'Purchase', hint: 'Take a payment in a shop' },
    enrolment: { title: 'Enrolment', hint: 'Register a new person' },
  },
  screen: { notYet: 'This screen is not built yet.', back: 'Back to the home screen' },
  status: {
    label: 'Terminal status',
    scanner: 'Scanner',
    link: 'Link',
    queue: 'Queue',
    scannerState: { disconnected: 'disconnected', connecting: 'connecting', ready: 'ready', busy: 'waiting for a hand', error: 'fault' },
    scannerKind: { simulated: 'simulated', serial: 'serial module', hid: 'USB scanner' },
    scannerModule: { 'table-full': "module's table full: some palms not on it", 'feature-refused': 'a palm feature was refused', 'sync-failed': 'module users not in sync' },
    palms: 'Palms',
    palmsState: { waiting: 'waiting to load', loading: 'loading {{pct}} %', ready: 'ready: {{n}}', error: 'not loaded: palms are not read' },
    printer: 'Printer',
    printerLog: 'file only',
    printerState: { ready: 'ready', 'paper-out': 'out of paper', 'cover-open': 'cover open', offline: 'offline', unreachable: 'not answering', error: 'fault', unknown: 'checking' },
    linkState: { up: 'online', down: 'offline', unknown: 'unknown' },
    inProcess: 'local reference server',
    noCentre: 'none: not set up',
    insecure: 'plain http: not encrypted',
    placeholder: 'placeholder',
    host: { connecting: 'Connecting to the terminal…', lost: 'The terminal is not answering. Retrying…' },
  },
  sim: { title: 'Simulated scanner (demo)', who: 'Palm of', lay: 'Lay this palm' },
  placeholders: {
    badge: 'Demo parts: {{n}}',
    heading: 'Placeholder parts (not real yet):',
    scanner: 'simulated scanner',
    server: 'in-process reference server',
    queue: 'outbox queue',
    printer: 'no receipt printer (receipts to a file, drawer simulated)',
  },
} as const;

type Widen<T> = { -readonly [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };
export type Messages = Widen<typeof en>;
