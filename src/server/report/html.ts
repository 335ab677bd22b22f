// The printable HTML of a person's financial report, in Arabic (right to left), Kurdish or English. Pure: the
// same page is printed at the counter, or turned into a PDF by a browser's print-to-PDF.
import type { MovementKind, PersonReport } from './report.ts';

export const REPORT_LANGUAGES = ['en', 'ar', 'ku'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

interface Labels {
  title: string;
  person: string;
  month: string;
  salaryAccount: string;
  customerAccount: string;
  opening: string;
  closing: string;
  fees: string;
  date: string;
  what: string;
  reference: string;
  amount: string;
  balance: string;
  period: string;
  none: string;
  failedDebits: string;
  kinds: Record<MovementKind, string>;
}

const LABELS: Record<ReportLanguage, Labels> = {
  en: {
    title: 'Financial report', person: 'Person', month: 'Month', salaryAccount: 'Salary owed', customerAccount: 'Account', opening: 'Opening balance',
    closing: 'Closing balance', fees: 'Fees', date: 'Date', what: 'Movement', reference: 'Reference', amount: 'Amount', balance: 'Balance', period: 'period', none: 'No movements this month', failedDebits: 'Direct debits not made (the bill is still due)',
    kinds: { salary: 'Salary', salary_paid_out: 'Salary paid out in cash', deposit: 'Deposit', purchase: 'Purchase', refund: 'Refund', void: 'Cancelled purchase', bill: 'Bill paid', direct_debit: 'Direct debit', other: 'Other' },
  },
  ar: {
    title: 'الكشف المالي', person: 'الشخص', month: 'الشهر', salaryAccount: 'الراتب المستحق', customerAccount: 'الحساب', opening: 'الرصيد الافتتاحي',
    closing: 'الرصيد الختامي', fees: 'الرسوم', date: 'التاريخ', what: 'الحركة', reference: 'المرجع', amount: 'المبلغ', balance: 'الرصيد', period: 'الفترة', none: 'لا حركات في هذا الشهر', failedDebits: 'اقتطاعات مباشرة لم تتم (الفاتورة ما زالت مستحقة)',
    kinds: { salary: 'راتب', salary_paid_out: 'راتب مصروف نقداً', deposit: 'إيداع', purchase: 'شراء', refund: 'استرداد', void: 'شراء ملغى', bill: 'فاتورة مدفوعة', direct_debit: 'اقتطاع مباشر', other: 'أخرى' },
  },
  ku: {
    title: 'Rapora darayî', person: 'Kes', month: 'Meh', salaryAccount: 'Meaşê deyndar', customerAccount: 'Hesab', opening: 'Bilançoya destpêkê',
    closing: 'Bilançoya dawiyê', fees: 'Xerc', date: 'Dîrok', what: 'Tevger', reference: 'Referans', amount: 'Mîqdar', balance: 'Bilanço', period: 'dem', none: 'Vê mehê tu tevger tune', failedDebits: 'Dayînên rasterast ên nehatine kirin (fatûre hîn deyn e)',
    kinds: { salary: 'Meaş', salary_paid_out: 'Meaş bi pere hat dayîn', deposit: 'Danîn', purchase: 'Kirîn', refund: 'Vegerandin', void: 'Kirîna betalkirî', bill: 'Fatûre hat dayîn', direct_debit: 'Dayîna rasterast', other: 'Yên din' },
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Minor units as a signed decimal with the currency's two decimals: +1,250.00 / −300.00 (no floats). */
export function formatMinor(minor: number, signed = false): string {
  const abs = Math.abs(minor);
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = `${whole}.${String(abs % 100).padStart(2, '0')}`;
  return minor < 0 ? `−${text}` : signed && minor > 0 ? `+${text}` : text;
}

export function reportHtml(rep: PersonReport, lang: ReportLanguage = 'en'): string {
  const L = LABELS[lang];
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  // Numbers and ids read left to right inside a right-to-left page.
  const ltr = (s: string) => `<bdi dir="ltr">${escapeHtml(s)}</bdi>`;
  const sections = rep.accounts.map((a) => {
    const rows = a.movements.map((m) => `<tr class="${m.amount_minor < 0 ? 'out' : 'in'}"><td>${ltr(new Date(m.at).toISOString().slice(0, 16).replace('T', ' '))}</td><td>${escapeHtml(L.kinds[m.kind])}${m.period ? ` (${escapeHtml(L.period)} ${ltr(m.period)})` : ''}</td><td>${ltr(m.reference)}</td><td class="num">${ltr(formatMinor(m.amount_minor, true))}</td><td class="num">${ltr(formatMinor(m.balance_after_minor))}</td></tr>`);
    return `<section><h2>${escapeHtml(a.role === 'salary' ? L.salaryAccount : L.customerAccount)} ${ltr(a.account)} · ${ltr(a.currency)}</h2>
<table><thead><tr><th>${L.date}</th><th>${L.what}</th><th>${L.reference}</th><th>${L.amount}</th><th>${L.balance}</th></tr></thead><tbody>
<tr class="total"><td colspan="4">${escapeHtml(L.opening)}</td><td class="num">${ltr(formatMinor(a.opening_minor))}</td></tr>
${rows.length ? rows.join('\n') : `<tr><td colspan="5">${escapeHtml(L.none)}</td></tr>`}
<tr><td colspan="3">${escapeHtml(L.fees)}</td><td class="num">${ltr(formatMinor(a.fees_minor))}</td><td></td></tr>
<tr class="total"><td colspan="4">${escapeHtml(L.closing)}</td><td class="num">${ltr(formatMinor(a.closing_minor))}</td></tr>
</tbody></table></section>`;
  });
  const failed = rep.failed_direct_debits.length
    ? `<section><h2>${escapeHtml(L.failedDebits)}</h2><table><tbody>${rep.failed_direct_debits.map((d) => `<tr><td>${ltr(new Date(d.at).toISOString().slice(0, 16).replace('T', ' '))}</td><td>${ltr(`${d.biller} ${d.bill}`)}</td><td class="num">${ltr(formatMinor(d.amount_minor))} ${ltr(d.currency)}</td><td>${ltr(d.reason.split(':')[0] ?? '')}</td></tr>`).join('\n')}</tbody></table></section>`
    : '';
  return `<!doctype html>
<html lang="${lang}" dir="${dir}"><head><meta charset="utf-8"><title>${escapeHtml(L.title)} ${escapeHtml(rep.person)} ${escapeHtml(rep.month)}</title>
<style>body{font-family:"DejaVu Sans",sans-serif;margin:2em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border-bottom:1px solid #ccc;padding:.3em .5em;text-align:start}.num{text-align:end;white-space:nowrap}.total td{font-weight:bold}.out .num:first-of-type{color:#a00}@media print{body{margin:0}}</style>
</head><body><h1>${escapeHtml(L.title)}</h1>
<p>${escapeHtml(L.person)}: ${ltr(rep.person)} · ${escapeHtml(L.month)}: ${ltr(rep.month)}</p>
${sections.join('\n')}
${failed}
</body></html>
`;
}
