import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, ProtocolError, UsageError } from '@multiget/core';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, NextAuthHandler, ParsedKey } from 'ssh2';

const { OpenSSHAgent, utils } = ssh2;

/** The keys OpenSSH tries by default, in its order (keys ssh2 cannot use, like `_sk`, left out). */
export const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

/** How long the agent may take to list its keys before it is left out. */
const AGENT_TIMEOUT_MS = 5_000;

/** A private key ready to sign, and how to name it in messages (a path or "the privateKey option"; never its text). */
export interface Identity {
  readonly label: string;
  readonly key: ParsedKey;
}

/** A default key that could not be used, and why (shown when authentication fails). */
export interface SkippedKey {
  readonly label: string;
  readonly reason: string;
}

/** Keys gathered for authentication. */
export interface Identities {
  readonly keys: Identity[];
  readonly skipped: SkippedKey[];
}

/** One step of the authentication sequence. */
interface AuthStep {
  /** The SSH method the server must still allow (`publickey` for agent keys). */
  readonly method: AuthenticationType;
  /** For the failure message: what was tried. */
  readonly label: string;
  readonly attempt: AnyAuthMethod;
}

/** What one connection authenticates with. Holds secrets: never logged, never put in messages. */
export interface AuthPlan {
  readonly username: string;
  readonly password: string | undefined;
  readonly identities: Identities;
  /** The agent socket, when the agent is reachable and holds keys. */
  readonly agent: string | undefined;
}

/** Expands a leading `~/` against `home`. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** Whether `value` holds key text rather than naming a file. */
function isKeyText(value: string): boolean {
  return value.includes('-----BEGIN') || /^(ssh|ecdsa)-[a-z0-9-]+ [A-Za-z0-9+/]/.test(value.trim());
}

function parsed(data: string | Buffer, passphrase: string | Buffer | undefined): ParsedKey | Error {
  const result = utils.parseKey(data, passphrase);
  if (result instanceof Error) return result;
  const key = Array.isArray(result) ? result[0] : result;
  return key ?? new Error('no key found');
}

function isEncryptedWithoutPassphrase(err: Error): boolean {
  return /no passphrase given/i.test(err.message);
}

function isWrongPassphrase(err: Error): boolean {
  return /bad passphrase|bad decrypt|decrypt/i.test(err.message);
}

/**
 * Loads the explicit key (`privateKey`: a path, `~/` allowed, or the key text) or, without one, the
 * default keys `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`. Default keys that are missing are ignored;
 * encrypted ones without (or with a wrong) passphrase are skipped and remembered for the failure
 * message, as OpenSSH's BatchMode does.
 *
 * @throws UsageError (MG_ERR_INVALID_OPTION) when the explicit key file cannot be read or is not a
 *   private key; ProtocolError (MG_ERR_AUTH) when it is encrypted and the passphrase is missing or wrong.
 */
export async function loadIdentities(
  privateKey: string | Buffer | undefined,
  passphrase: string | Buffer | undefined,
  home: string,
): Promise<Identities> {
  if (privateKey !== undefined) {
    let data: string | Buffer = privateKey;
    let label = 'the privateKey option';
    if (typeof privateKey === 'string' && !isKeyText(privateKey)) {
      const path = expandHome(privateKey, home);
      label = path;
      try {
        data = await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new UsageError(
          ErrorCodes.INVALID_OPTION,
          code === 'ENOENT' ? `The SSH key file ${path} does not exist` : `Cannot read the SSH key file ${path} (${code ?? 'error'})`,
          { cause: err, ...(code === undefined ? {} : { errno: code }) },
        );
      }
    }
    const key = parsed(data, passphrase);
    if (key instanceof Error) {
      if (isEncryptedWithoutPassphrase(key)) {
        throw new ProtocolError(ErrorCodes.AUTH, `The SSH key ${label} is encrypted: give its passphrase (--ssh-passphrase-file, or the passphrase option)`);
      }
      if (passphrase !== undefined && isWrongPassphrase(key)) {
        throw new ProtocolError(ErrorCodes.AUTH, `Cannot decrypt the SSH key ${label}: wrong passphrase`);
      }
      throw new UsageError(ErrorCodes.INVALID_OPTION, `The SSH key ${label} cannot be read: ${key.message}`);
    }
    if (!key.isPrivateKey()) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, `The SSH key ${label} is a public key; give the private key`);
    }
    return { keys: [{ label, key }], skipped: [] };
  }
  const keys: Identity[] = [];
  const skipped: SkippedKey[] = [];
  for (const name of DEFAULT_KEY_FILES) {
    const path = join(home, '.ssh', name);
    const data = await readFile(path).catch(() => undefined);
    if (data === undefined) continue;
    const key = parsed(data, passphrase);
    if (key instanceof Error) {
      const reason = isEncryptedWithoutPassphrase(key)
        ? 'encrypted, no passphrase given'
        : passphrase !== undefined && isWrongPassphrase(key)
          ? 'encrypted, the passphrase does not fit'
          : 'unreadable';
      skipped.push({ label: path, reason });
      continue;
    }
    if (key.isPrivateKey()) keys.push({ label: path, key });
  }
  return { keys, skipped };
}

/**
 * The agent socket to use, or undefined when there is none, it cannot be reached, or it holds no
 * keys (then it is not offered at all, which keeps ssh2 from failing the connection over it).
 */
export async function usableAgent(socket: string | undefined): Promise<string | undefined> {
  if (socket === undefined || socket === '') return undefined;
  const st = await stat(socket).catch(() => undefined);
  if (st === undefined || !st.isSocket()) return undefined;
  const agent = new OpenSSHAgent(socket);
  const count = await new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(0), AGENT_TIMEOUT_MS);
    timer.unref();
    agent.getIdentities((err, keys) => {
      clearTimeout(timer);
      resolve(err ? 0 : (keys?.length ?? 0));
    });
  });
  return count > 0 ? socket : undefined;
}

/**
 * An ssh2 `authHandler` that tries, in OpenSSH's order: the explicit key (when given), the agent's
 * keys, the default keys, then the password (with `password`, then `keyboard-interactive` answering
 * every hidden prompt with it). Methods the server says it no longer accepts are skipped.
 *
 * @returns the handler, and the list of what it tried (labels only) for the failure message.
 */
export function authHandler(plan: AuthPlan, explicitKey: boolean): { handler: AuthHandlerMiddleware; tried: string[] } {
  const { username, password, identities, agent } = plan;
  const keySteps: AuthStep[] = identities.keys.map((id) => ({
    method: 'publickey',
    label: `key ${id.label}`,
    attempt: { type: 'publickey', username, key: id.key },
  }));
  const agentSteps: AuthStep[] =
    agent === undefined ? [] : [{ method: 'publickey', label: 'ssh-agent', attempt: { type: 'agent', username, agent } }];
  const steps: AuthStep[] = explicitKey ? [...keySteps, ...agentSteps] : [...agentSteps, ...keySteps];
  if (password !== undefined) {
    steps.push({ method: 'password', label: 'password', attempt: { type: 'password', username, password } });
    steps.push({
      method: 'keyboard-interactive',
      label: 'keyboard-interactive',
      attempt: {
        type: 'keyboard-interactive',
        username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo === true ? '' : password))),
      },
    });
  }
  const tried: string[] = [];
  let next = 0;
  const handler: AuthHandlerMiddleware = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback: NextAuthHandler) => {
    while (next < steps.length) {
      const step = steps[next++]!;
      // ssh2 passes null before the first attempt; afterwards the server's list of what may still work.
      if (Array.isArray(methodsLeft) && !methodsLeft.includes(step.method)) continue;
      if (!tried.includes(step.label)) tried.push(step.label);
      callback(step.attempt);
      return;
    }
    callback(false as unknown as AnyAuthMethod);
  };
  return { handler, tried };
}
