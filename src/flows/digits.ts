// Digits as people type them at an Arabic or Kurdish counter: Arabic-Indic (U+0660–0669) and Extended
// Arabic-Indic (U+06F0–06F9) digits become Latin digits before any number is read.
export function toLatinDigits(s: string): string {
  return s.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660)).replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
}
