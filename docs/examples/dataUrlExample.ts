/**
 * Runs the plugin of docs/plugins.md twice: once through the driver-test kit (`@multiget/core/testing`),
 * the way a plugin's own unit tests would, and once through a real engine, as a user would. Exits
 * non-zero when a byte is wrong, so `npm run docs` fails if the page's example stops working.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, ErrorCodes } from '@multiget/core';
import { createJob, probeWith, rangeRequest, readSource, rejectionOf } from '@multiget/core/testing';
import { DataUrlPlugin } from './DataUrlPlugin.js';

const content = Buffer.alloc(100_000, 'multiget ');
const url = `data:application/octet-stream;base64,${content.toString('base64')}`;

// 1. The driver alone: probe, then a range, then a malformed URL.
const plugin = new DataUrlPlugin();
const job = await probeWith(plugin, createJob(url));
if (job.remote?.size !== content.length) throw new Error(`probe saw ${job.remote?.size} bytes`);
const middle = await readSource(await plugin.fetchRange(rangeRequest(job, 1000, 1999), job));
if (!middle.equals(content.subarray(1000, 2000))) throw new Error('range 1000-1999 differs');
const bad = await rejectionOf(plugin.probe(createJob('data:no-comma')));
if (bad.code !== ErrorCodes.INVALID_URL) throw new Error(`expected MG_ERR_INVALID_URL, got ${bad.code}`);

// 2. Through the engine: several connections, the checksum verified before the file is complete.
const dir = await mkdtemp(join(tmpdir(), 'multiget-docs-'));
try {
  const mg = new Multiget({ plugins: [new DataUrlPlugin()] });
  const sha256 = createHash('sha256').update(content).digest('hex');
  const result = await mg.download(url, { dir, connections: 4, minSplitSize: 16 * 1024, checksum: `sha256=${sha256}` }).done;
  const written = await readFile(result.file);
  if (!written.equals(content) || !result.verified) throw new Error('downloaded bytes differ');
  await mg.close();
  console.log(`data: plugin example: ${result.size} bytes, verified ${result.verified}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
