// What the Electron preload puts on window (absent in browser mode).
import type { PreloadBridge } from './api-client.ts';

declare global {
  interface Window {
    palmpay?: PreloadBridge;
  }
}

export {};
