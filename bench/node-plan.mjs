#!/usr/bin/env node
// node bench/node-plan.mjs ARCHIVE: the planner component under Node (jco) into a sink that
// does nothing, printing only the entry count. bench/run.sh --wasm times it as floor-node-plan:
// what the planner costs in Node before any file is written (decompression, parsing, planning,
// and jco handing every action and data chunk to JavaScript).
import { fileSource, loadPlanner, presetOptions } from '../wasm/js/lib.mjs';

const archive = process.argv[2];
if (archive === undefined) {
  process.stderr.write('usage: node bench/node-plan.mjs ARCHIVE\n');
  process.exit(2);
}
const source = fileSource(archive);
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
try {
  const report = await planner.plan(presetOptions('data'));
  process.stdout.write(`planned ${report.entries} entries\n`);
} catch (e) {
  process.stderr.write(`error: ${JSON.stringify(e?.payload ?? String(e), (_, x) => (typeof x === 'bigint' ? Number(x) : x))}\n`);
  process.exit(1);
} finally {
  source.close();
}
