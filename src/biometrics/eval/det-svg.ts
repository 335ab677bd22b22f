// DET curve (FNMR against FMR, both on log axes) as a self-contained SVG string. Pure.

export interface DetSeries {
  label: string;
  points: ReadonlyArray<{ fmr: number; fnmr: number }>;
  eer?: number;
}

const W = 560;
const H = 460;
const PAD = { l: 70, r: 20, t: 40, b: 60 };
const MIN = 1e-5;

export function detSvg(series: readonly DetSeries[], title: string): string {
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const lx = (v: number): number => PAD.l + ((Math.log10(Math.max(v, MIN)) - Math.log10(MIN)) / -Math.log10(MIN)) * pw;
  const ly = (v: number): number => PAD.t + ph - ((Math.log10(Math.max(v, MIN)) - Math.log10(MIN)) / -Math.log10(MIN)) * ph;
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  for (let e = -5; e <= 0; e++) {
    const v = 10 ** e;
    const label = e === 0 ? '100%' : `${+(v * 100).toPrecision(1)}%`;
    parts.push(`<line x1="${lx(v)}" y1="${PAD.t}" x2="${lx(v)}" y2="${PAD.t + ph}" stroke="#ddd"/>`);
    parts.push(`<line x1="${PAD.l}" y1="${ly(v)}" x2="${PAD.l + pw}" y2="${ly(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${lx(v)}" y="${PAD.t + ph + 16}" text-anchor="middle">${label}</text>`);
    parts.push(`<text x="${PAD.l - 6}" y="${ly(v) + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(`<line x1="${lx(MIN)}" y1="${ly(MIN)}" x2="${lx(1)}" y2="${ly(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  parts.push(`<rect x="${PAD.l}" y="${PAD.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${PAD.l + pw / 2}" y="${H - 20}" text-anchor="middle">False match rate (FMR)</text>`);
  parts.push(`<text x="18" y="${PAD.t + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${PAD.t + ph / 2})">False non-match rate (FNMR)</text>`);
  series.forEach((s, i) => {
    const colour = colours[i % colours.length]!;
    const pts = s.points.map((p) => `${lx(p.fmr).toFixed(1)},${ly(p.fnmr).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const eer = s.eer === undefined ? '' : ` (EER ${(s.eer * 100).toFixed(2)}%)`;
    parts.push(`<text x="${PAD.l + pw - 8}" y="${PAD.t + 18 + 16 * i}" text-anchor="end" fill="${colour}">${escapeXml(s.label + eer)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
