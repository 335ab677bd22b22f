// Builds the renderer (renderer/ → dist/renderer). Relative base so the same build loads from the browser
// kiosk (http://127.0.0.1) and from Electron's app:// protocol.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./renderer'),
  base: './',
  plugins: [react()],
  resolve: { alias: { '@api': here('./src/api') } },
  build: {
    outDir: here('./dist/renderer'),
    emptyOutDir: true,
    // No inline scripts anywhere: the CSP allows only 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048, // one kiosk bundle, loaded from disk: size matters little
    target: 'chrome120',
    // Two pages: the kiosk, and the printed receipt the host's printer renders (renderer/receipt-print.tsx).
    rollupOptions: { input: { main: here('./renderer/index.html'), receipt: here('./renderer/receipt.html') } },
  },
  logLevel: 'warn',
});
