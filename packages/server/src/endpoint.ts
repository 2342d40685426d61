/**
 * The endpoint file of a shared service: `service.json` in the state directory says where the
 * service listens and which token a client must present. Written by the service (mode 0600,
 * replaced atomically), read by clients. Imports only Node built-ins, so the VS Code extension
 * bundles it without the engine.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Name of the endpoint file in the state directory. */
export const ENDPOINT_FILE = 'service.json';

/** What `service.json` holds. */
export interface ServiceEndpoint {
  /** Process id of the service. */
  pid: number;
  /** Unix domain socket path, or a Windows named pipe (`\\.\pipe\…`). */
  socket: string;
  /**
   * Secret a client presents in `initialize` (`initializationOptions.token`), 64 hex digits.
   * Whoever can read this file (the user: mode 0600) may drive the service.
   */
  token: string;
  /** The service's version and protocol version, for diagnostics. */
  version: string;
  /** The service's {@link PROTOCOL_VERSION}. */
  protocolVersion: number;
}

/** Path of the endpoint file of a state directory. */
export function endpointPath(stateDir: string): string {
  return join(stateDir, ENDPOINT_FILE);
}

/** A fresh random token (256 bits). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

function isEndpoint(v: unknown): v is ServiceEndpoint {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e['pid'] === 'number' &&
    Number.isSafeInteger(e['pid']) &&
    typeof e['socket'] === 'string' &&
    e['socket'] !== '' &&
    typeof e['token'] === 'string' &&
    /^[0-9a-f]{64}$/.test(e['token']) &&
    typeof e['version'] === 'string' &&
    typeof e['protocolVersion'] === 'number'
  );
}

/**
 * Reads the endpoint file; `undefined` when there is none or it is not one (a half-written or
 * foreign file is treated as "no service", and the caller starts one). Never follows a link.
 */
export async function readEndpoint(stateDir: string): Promise<ServiceEndpoint | undefined> {
  let text: string;
  try {
    const fh = await open(endpointPath(stateDir), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    try {
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return isEndpoint(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the endpoint file atomically, readable by the user only: a temporary file created afresh
 * (O_EXCL, O_NOFOLLOW, mode 0600, so nothing planted at its name is written through), then renamed.
 */
export async function writeEndpoint(stateDir: string, endpoint: ServiceEndpoint): Promise<void> {
  const path = endpointPath(stateDir);
  const tmp = `${path}.${process.pid}.tmp`;
  await unlink(tmp).catch(() => undefined);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await fh.writeFile(JSON.stringify(endpoint));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Removes the endpoint file if it is still this service's (a newer service may have replaced it). */
export async function removeEndpoint(stateDir: string, token: string): Promise<void> {
  const current = await readEndpoint(stateDir);
  if (current?.token === token) await unlink(endpointPath(stateDir)).catch(() => undefined);
}
