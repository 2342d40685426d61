import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Whether ssh2's optional native crypto binding is loaded in this process. Without it every SSH
 * packet builds a new AES-GCM decipher in JavaScript, which made downloads about 30 % slower than
 * OpenSSH's `sftp` on a 2-core machine; with it they matched or beat it (see the README). The
 * binding is compiled when ssh2 is installed, for the Node that ran the install, if a C++ toolchain
 * is there; `npm rebuild ssh2` with the Node that runs Multiget builds it again.
 *
 * @returns false also when ssh2's layout is not the expected one (the check reads an internal module).
 */
export function nativeCryptoAvailable(): boolean {
  try {
    const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: unknown };
    return crypto.bindingAvailable === true;
  } catch {
    return false;
  }
}
