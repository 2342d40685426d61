import { ErrorCodes, type NumericOptionName, UsageError, checkOption } from '@multiget/core';

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i;
const MULTIPLIER: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function invalid(flag: string, value: string, expected: string): UsageError {
  return new UsageError(ErrorCodes.INVALID_OPTION, `Invalid value "${value}" for ${flag}: expected ${expected}`);
}

/**
 * Parses a byte size or rate such as `2M`, `512K`, `1.5G` or `1048576` and checks it against the
 * option's row of core's `OPTION_LIMITS`. Units are binary (1K = 1024 bytes), as in wget, curl and
 * aria2; a trailing `B` or `iB` is accepted (`2MiB`). Fractions are rounded down to whole bytes.
 * Throws MG_ERR_INVALID_OPTION, naming `flag`, for anything else or for a value out of range.
 */
export function parseSize(value: string, flag: string, option: NumericOptionName): number {
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) throw invalid(flag, value, 'a size in bytes, optionally with K, M or G (1K = 1024)');
  const bytes = Math.floor(Number(match[1]) * (MULTIPLIER[(match[2] ?? '').toLowerCase()] ?? 1));
  return checkOption(option, bytes, flag);
}

/**
 * Parses a duration in seconds (`30`, `2.5`) into whole milliseconds and checks it against the
 * option's limits (in milliseconds). Throws MG_ERR_INVALID_OPTION for anything else.
 */
export function parseSeconds(value: string, flag: string, option: NumericOptionName): number {
  const trimmed = value.trim();
  if (!/^\d+(?:\.\d+)?$/.test(trimmed)) throw invalid(flag, value, 'a number of seconds');
  return checkOption(option, Math.round(Number(trimmed) * 1000), flag);
}

/**
 * Parses a whole number and checks it: against the option's row of `OPTION_LIMITS`, or against
 * `[min, max]` for a flag that is no engine option (`--max-redirs`). Throws MG_ERR_INVALID_OPTION.
 */
export function parseCount(value: string, flag: string, limits: NumericOptionName | { min: number; max: number }): number {
  const trimmed = value.trim();
  if (!/^-?\d+$/.test(trimmed)) throw invalid(flag, value, 'a whole number');
  const n = Number(trimmed);
  if (typeof limits === 'string') return checkOption(limits, n, flag);
  if (!Number.isSafeInteger(n) || n < limits.min || n > limits.max) throw invalid(flag, value, `a whole number from ${limits.min} to ${limits.max}`);
  return n;
}
