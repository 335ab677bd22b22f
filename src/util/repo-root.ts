// The checkout's root folder (for the CLI, which runs from source). Electron's main process does not use
// this: it is bundled and asks Electron for its app path instead.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
