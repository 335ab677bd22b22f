// The kiosk's layout rules, checked in Chromium at the counter's screen sizes (shared by layout.test.ts and the
// screens other e2e tests add): the primary action in view without scrolling, no sideways scroll, every touch
// target at least 44 px, the header on one line. A screenshot of each size is kept for a person to look at.
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/** The counter screens PalmPay is laid out for: landscape 4:3 and 16:10, and a portrait tablet. */
export const SIZES: Array<[number, number]> = [[1024, 768], [1280, 800], [800, 1280]];

/** Checks the page at every size, adds what breaks a rule to `problems`, and returns how many sizes were checked. */
export async function checkLayout(page: Page, name: string, o: { shots: string; problems: string[]; restore: [number, number] }): Promise<number> {
  await page.waitForTimeout(60); // let React paint the step
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(60);
    const r = await page.evaluate(() => {
      const vw = window.innerWidth;
      const vh = window.innerHeight;
      const visible = (el: Element) => {
        const b = el.getBoundingClientRect();
        return b.width > 0 && b.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      };
      const label = (el: Element) => `${el.tagName.toLowerCase()}[${el.getAttribute('data-testid') ?? el.textContent?.trim().slice(0, 20)}]`;
      const primary = [...document.querySelectorAll('main button.primary, main button.link')].filter(visible);
      const outside = primary.filter((el) => {
        const b = el.getBoundingClientRect();
        return b.top < 0 || b.left < 0 || b.bottom > vh + 0.5 || b.right > vw + 0.5;
      });
      const small = [...document.querySelectorAll('button, select, input, textarea')].filter(visible).filter((el) => {
        const b = el.getBoundingClientRect();
        return b.height < 43.5 || b.width < 43.5;
      });
      const brand = document.querySelector('.brand')!.getBoundingClientRect();
      const topbar = document.querySelector('.topbar')!.getBoundingClientRect();
      const topItems = [...document.querySelectorAll('.topbar > *, .switches > *')].filter(visible).map((el) => el.getBoundingClientRect());
      return {
        hScroll: document.documentElement.scrollWidth > vw + 0.5 || document.body.scrollWidth > vw + 0.5,
        outside: outside.map(label),
        small: small.map(label),
        brandLines: Math.round(brand.height / parseFloat(getComputedStyle(document.querySelector('.brand')!).lineHeight || '30')),
        headerRows: topItems.some((b) => b.top >= topbar.top + topbar.height / 2) ? 2 : 1,
      };
    });
    const at = `${name} @${width}×${height}`;
    if (r.hScroll) o.problems.push(`${at}: scrolls horizontally`);
    if (r.outside.length) o.problems.push(`${at}: primary action outside the viewport: ${r.outside.join(', ')}`);
    if (r.small.length) o.problems.push(`${at}: touch targets under 44 px: ${r.small.join(', ')}`);
    if (r.headerRows > 1 || r.brandLines > 1) o.problems.push(`${at}: the header wraps`);
    await page.screenshot({ path: join(o.shots, `${name}-${width}x${height}.png`) });
  }
  await page.setViewportSize({ width: o.restore[0], height: o.restore[1] });
  return SIZES.length;
}
