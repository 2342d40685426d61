// Medians, the table printed per profile, and the ratios of multiget to each peer and to the best.
const MiB = 1024 * 1024;

export function median(values) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (x, digits = 2) => (x === undefined ? undefined : Number(x.toFixed(digits)));

/** Figures of one tool over its runs; failed runs are counted, never timed. */
export function summarise(tool, runs, size, idealSeconds) {
  const good = runs.filter((r) => r.ok);
  const wall = median(good.map((r) => r.wall));
  const cpu = median(good.map((r) => r.cpu));
  const rss = runs.filter((r) => r.maxRssKiB !== undefined).map((r) => r.maxRssKiB);
  return {
    tool,
    runs: runs.length,
    ok: good.length,
    medianWallSeconds: round(wall),
    mibPerSecond: wall ? round(size / MiB / wall, 1) : undefined,
    medianCpuSeconds: round(cpu),
    // Peak over every run that reported one (a failing run's memory is still its memory).
    peakRssMiB: rss.length ? round(Math.max(...rss) / 1024, 1) : undefined,
    walls: good.map((r) => r.wall),
    overIdealPercent: idealSeconds && wall ? round((wall / idealSeconds - 1) * 100, 1) : undefined,
    failures: runs.filter((r) => !r.ok).map((r) => r.error),
  };
}

/** `multiget/aria2c time 0.83x, cpu 1.10x` for every peer that has figures. */
export function ratios(summaries) {
  const mg = summaries.find((s) => s.tool === 'multiget');
  const out = [];
  if (!mg) return out; // --tools without multiget: nothing to compare
  for (const peer of summaries) {
    if (peer.tool === 'multiget') continue;
    const entry = { peer: peer.tool };
    if (mg?.medianWallSeconds && peer.medianWallSeconds) entry.time = round(mg.medianWallSeconds / peer.medianWallSeconds);
    if (mg?.medianCpuSeconds !== undefined && peer.medianCpuSeconds) entry.cpu = round(mg.medianCpuSeconds / peer.medianCpuSeconds);
    if (mg?.peakRssMiB && peer.peakRssMiB) entry.rss = round(mg.peakRssMiB / peer.peakRssMiB);
    out.push(entry);
  }
  return out;
}

const FIGURES = [
  { key: 'time', field: 'medianWallSeconds', label: 'time' },
  { key: 'cpu', field: 'medianCpuSeconds', label: 'cpu' },
  { key: 'rss', field: 'peakRssMiB', label: 'peak RSS' },
];

/**
 * multiget against the best peer of a profile. Only peers with at least one good run compete.
 * `fastest` is the peer with the lowest median wall time, with multiget's time, CPU and RSS ratios
 * to that one peer; `perFigure` takes the best peer of each figure on its own (the fastest, the
 * cheapest in CPU, the smallest in RSS), which may be three different peers.
 */
export function bestPeer(summaries) {
  const mg = summaries.find((s) => s.tool === 'multiget' && s.ok > 0);
  // `baseline` (--baseline) is multiget itself, built from another checkout: not a peer to beat.
  const peers = summaries.filter((s) => s.tool !== 'multiget' && s.tool !== 'baseline' && s.ok > 0);
  if (peers.length === 0) return undefined;
  const ratio = (a, b) => (a !== undefined && b ? round(a / b) : undefined);
  const lowest = (field) => peers.filter((p) => p[field] !== undefined).sort((a, b) => a[field] - b[field])[0];
  const fastest = lowest('medianWallSeconds');
  const out = { peer: fastest?.tool, perFigure: {} };
  for (const { key, field } of FIGURES) {
    out[key] = mg && fastest ? ratio(mg[field], fastest[field]) : undefined;
    const best = lowest(field);
    if (best) out.perFigure[key] = { peer: best.tool, ratio: mg ? ratio(mg[field], best[field]) : undefined };
  }
  return out;
}

const times = (x) => (x === undefined ? '-' : `${x.toFixed(2)}x`);

/** One line per profile: multiget's ratios to the fastest peer, then to the best peer of each figure. */
export function formatBestTable(profiles) {
  const rows = [['profile', 'fastest peer', 'time', 'cpu', 'peak RSS', 'best cpu (peer)', 'best RSS (peer)']];
  for (const p of profiles) {
    const b = p.best;
    if (!b) {
      rows.push([p.name, '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const per = (key) => (b.perFigure[key] ? `${times(b.perFigure[key].ratio)} (${b.perFigure[key].peer})` : '-');
    rows.push([p.name, b.peer ?? '-', times(b.time), times(b.cpu), times(b.rss), per('cpu'), per('rss')]);
  }
  return `multiget / best peer (below 1.00x multiget is faster or cheaper; a ratio is '-' when multiget or the peer has no good run)
${table(rows)}`;
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, ri) => {
    const line = r.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

const fixed = (x, digits) => (x === undefined ? '-' : x.toFixed(digits));

/** The text block printed at the end of a profile. */
export function formatProfile(profile) {
  const lines = [];
  lines.push(`== ${profile.name}: ${profile.description}`);
  lines.push(`   ${(profile.size / MiB).toFixed(0)} MiB from ${profile.server}, ${profile.runsPerTool} run(s) per tool, MiB/s = MiB per wall second`);
  if (profile.idealSeconds) lines.push(`   ideal time (size / (16 x ${profile.perConnectionBytesPerSec / 1e6} MB/s)): ${profile.idealSeconds.toFixed(2)} s`);
  if (profile.faults) lines.push(`   faults: ${JSON.stringify(profile.faults)}`);
  const header = ['tool', 'ok', 'wall s (median)', 'MiB/s', 'cpu s (median)', 'peak RSS MiB', 'wall s (each run)'];
  if (profile.idealSeconds) header.splice(4, 0, 'over ideal');
  const rows = [header];
  for (const s of profile.summaries) {
    const failed = s.ok === 0;
    const row = [
      s.tool,
      `${s.ok}/${s.runs}`,
      failed ? 'FAILED' : fixed(s.medianWallSeconds, 2),
      failed ? '-' : fixed(s.mibPerSecond, 1),
      failed ? '-' : fixed(s.medianCpuSeconds, 2),
      fixed(s.peakRssMiB, 1),
      s.walls.length ? s.walls.map((w) => w.toFixed(2)).join(' ') : '-',
    ];
    if (profile.idealSeconds) row.splice(4, 0, failed || s.overIdealPercent === undefined ? '-' : `${s.overIdealPercent >= 0 ? '+' : ''}${s.overIdealPercent.toFixed(1)}%`);
    rows.push(row);
  }
  lines.push(table(rows));
  for (const r of profile.ratios) {
    const parts = [];
    if (r.time !== undefined) parts.push(`time ${r.time.toFixed(2)}x`);
    if (r.cpu !== undefined) parts.push(`cpu ${r.cpu.toFixed(2)}x`);
    if (r.rss !== undefined) parts.push(`peak RSS ${r.rss.toFixed(2)}x`);
    lines.push(`multiget/${r.peer} ${parts.length ? parts.join(', ') : 'n/a (a side has no successful run)'}`);
  }
  const b = profile.best;
  const ranMultiget = profile.summaries.some((s) => s.tool === 'multiget');
  if (b?.peer !== undefined && !ranMultiget) lines.push(`fastest peer: ${b.peer}`);
  if (b?.peer !== undefined && ranMultiget) {
    lines.push(`multiget/best peer (${b.peer}, the fastest) time ${times(b.time)}, cpu ${times(b.cpu)}, peak RSS ${times(b.rss)}`);
    lines.push(`multiget/best of each figure: ${FIGURES.map(({ key, label }) => (b.perFigure[key] ? `${label} ${times(b.perFigure[key].ratio)} (${b.perFigure[key].peer})` : `${label} -`)).join(', ')}`);
  }
  for (const s of profile.summaries) {
    for (const f of s.failures) lines.push(`FAILED ${s.tool}: ${f}`);
  }
  if (profile.notes?.length) for (const n of profile.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
