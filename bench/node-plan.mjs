#!/usr/bin/env node
// node bench/node-plan.mjs ARCHIVE [--repeat N]: the planner component under Node (jco) into a
// sink that does nothing, printing only the entry count. bench/run.sh --wasm times it as
// floor-node-plan: what the planner costs in Node before any file is written (decompression,
// parsing, planning, and jco handing every action and data chunk to JavaScript).
//
// --repeat N plans the archive N times in one process and prints each run's time: the planner
// once Node has started, loaded the bindings and tiered the wasm code up (a library's case),
// apart from what a fresh process pays.
import { fileSource, loadPlanner, presetOptions } from '../wasm/js/lib.mjs';

const args = process.argv.slice(2);
const repeatAt = args.indexOf('--repeat');
const repeat = repeatAt === -1 ? 1 : Number(args.splice(repeatAt, 2)[1]);
const archive = args[0];
if (archive === undefined || args.length !== 1 || !Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write('usage: node bench/node-plan.mjs ARCHIVE [--repeat N]\n');
  process.exit(2);
}
// The imports are bound once, when the bindings load: each run reads through a fresh source.
let current = null;
const source = {
  size: () => current.size(),
  read: (len) => current.read(len),
  readAt: (offset, len) => current.readAt(offset, len),
  close: () => {},
};
const done = { tag: 'done' };
const sink = { apply: () => done };
// jco's typings name the interfaces with their version, its code without: give both.
const planner = await loadPlanner({
  'uncork:extract/source': source,
  'uncork:extract/sink': sink,
  'uncork:extract/types': {},
  'uncork:extract/source@0.1.0': source,
  'uncork:extract/sink@0.1.0': sink,
  'uncork:extract/types@0.1.0': {},
});
const times = [];
for (let run = 0; run < repeat; run++) {
  current = fileSource(archive);
  const start = performance.now();
  try {
    const report = await planner.plan(presetOptions('data'));
    times.push(performance.now() - start);
    if (run === 0) process.stdout.write(`planned ${report.entries} entries\n`);
  } catch (e) {
    process.stderr.write(`error: ${JSON.stringify(e?.payload ?? String(e), (_, x) => (typeof x === 'bigint' ? Number(x) : x))}\n`);
    process.exit(1);
  } finally {
    current.close();
  }
}
if (repeat > 1) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  process.stdout.write(`runs (ms): ${times.map((t) => t.toFixed(1)).join(' ')}; median ${median.toFixed(1)}\n`);
}
