// pino-roll ships no types: the subset PalmPay uses (see src/util/log.ts).
declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';
  export interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    dateFormat?: string;
    mkdir?: boolean;
    mode?: number;
    sync?: boolean;
  }
  export default function pinoRoll(opts: PinoRollOptions): Promise<SonicBoom>;
}
