// Kurdish Kurmanji messages (Latin script, left to right).
import type { Messages } from './en.ts';

export const ku: Messages = {
  app: { title: 'PalmPay', tagline: 'Dayîn bi damarên kefa destan' },
  language: { self: 'Kurmancî', label: 'Ziman' },
  digits: { label: 'Hejmar', arab: 'Erebî-Hindî', latn: 'Latînî' },
  home: { heading: 'Karekî hilbijêre' },
  role: {
    salary: { title: 'Meaş', hint: 'Meaşê karmendekî bide' },
    purchase: { title: 'Kirîn', hint: 'Li dikanê pere werbigire' },
    enrolment: { title: 'Tomarkirin', hint: 'Kesekî nû tomar bike' },
  },
  screen: { notYet: 'Ev ekran hîn nehatiye çêkirin.', back: 'Vegere ekrana sereke' },
  status: {
    label: 'Rewşa termînalê',
    scanner: 'Skaner',
    link: 'Girêdan',
    queue: 'Rêz',
    scannerState: { disconnected: 'ne girêdayî', connecting: 'tê girêdan', ready: 'amade', busy: 'li benda destekê', error: 'xeletî' },
    scannerKind: { simulated: 'simulekirî', serial: 'modula rêzeyî', hid: 'skanera USB' },
    scannerModule: { 'table-full': 'tabloya modulê tije ye: hin kef ne tê de ne', 'feature-refused': 'taybetiyeke kefê hate redkirin', 'sync-failed': 'bikarhênerên modulê ne hevdem in' },
    palms: 'Kefên tomarkirî',
    palmsState: { waiting: 'li benda barkirinê', loading: 'tê barkirin {{pct}} %', ready: 'amade: {{n}}', error: 'nehatin barkirin: kef nayên xwendin' },
    printer: 'Çaper',
    printerLog: 'tenê pel',
    printerState: { ready: 'amade', 'paper-out': 'kaxez qediya', 'cover-open': 'qapak vekirî ye', offline: 'ne girêdayî', unreachable: 'bersiv nade', error: 'xeletî', unknown: 'tê kontrolkirin' },
    linkState: { up: 'serhêl', down: 'derhêl', unknown: 'nenas' },
    inProcess: 'servera referansê ya herêmî',
    noCentre: 'tune: nehatiye sazkirin',
    insecure: 'http bê şîfre',
    placeholder: 'cihgir',
    host: { connecting: 'Bi termînalê re tê girêdan…', lost: 'Termînal bersiv nade. Dîsa tê ceribandin…' },
  },
  sim: { title: 'Skanera simulekirî (demo)', who: 'Kefa destê', lay: 'Vê kefê deyne' },
  placeholders: {
    badge: 'Beşên demo: {{n}}',
    heading: 'Beşên cihgir (hîn ne rast in):',
    scanner: 'skanera simulekirî',
    server: 'servera referansê ya hundirîn',
    queue: 'rêza şandinê',
    printer: 'çapera meqbûzê tune (meqbûz li pelê, berkêş simulekirî)',
  },
};
