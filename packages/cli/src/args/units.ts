import { ErrorCodes, UsageError } from '@multiget/core';

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i;
const MULTIPLIER: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function invalid(flag: string, value: string, expected: string): UsageError {
  return new UsageError(ErrorCodes.INVALID_OPTION, `Invalid value "${value}" for ${flag}: expected ${expected}`);
}

/**
 * Parses a byte size or rate such as `2M`, `512K`, `1.5G` or `1048576`. Units are binary (1K = 1024
 * bytes), as in wget, curl and aria2; a trailing `B` or `iB` is accepted (`2MiB`). Fractions are
 * rounded down to whole bytes. Throws MG_ERR_INVALID_OPTION, naming `flag`, for anything else or
 * for a result below 1 byte.
 */
export function parseSize(value: string, flag: string): number {
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) throw invalid(flag, value, 'a size in bytes, optionally with K, M or G (1K = 1024)');
  const bytes = Math.floor(Number(match[1]) * (MULTIPLIER[(match[2] ?? '').toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalid(flag, value, 'at least 1 byte');
  return bytes;
}

/**
 * Parses a duration in seconds (`30`, `2.5`) into whole milliseconds, at least 1. Throws
 * MG_ERR_INVALID_OPTION for anything that is not a positive number.
 */
export function parseSeconds(value: string, flag: string): number {
  const trimmed = value.trim();
  if (!/^\d+(?:\.\d+)?$/.test(trimmed)) throw invalid(flag, value, 'a number of seconds');
  const ms = Math.round(Number(trimmed) * 1000);
  if (!Number.isSafeInteger(ms) || ms < 1) throw invalid(flag, value, 'more than 0 seconds');
  return ms;
}

/** Parses a whole number in [min, max]. Throws MG_ERR_INVALID_OPTION otherwise. */
export function parseCount(value: string, flag: string, min: number, max: number): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(flag, value, `a whole number from ${min} to ${max}`);
  }
  return n;
}
