// The JavaScript sink's copy fallback (issue 18, item 5), without the planner:
// `node --test wasm/js/copy.test.mjs`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { ENTRY_COST, FsSink } from './lib.mjs';

function scratch() {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'uncork-copy-'));
  fs.mkdirSync(path.join(dest, 'd', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dest, 'd', 'f.txt'), 'data');
  fs.writeFileSync(path.join(dest, 'd', 'sub', 'g.txt'), 'g');
  fs.symlinkSync('f.txt', path.join(dest, 'd', 'in'));
  fs.symlinkSync('../f.txt', path.join(dest, 'd', 'sub', 'up'));
  // Inside where it stands (d/out reaches beside the destination only from d's parent's
  // parent), but carried to c/out it would leave the copy.
  fs.symlinkSync('../../outside', path.join(dest, 'd', 'out'));
  return dest;
}

const linkToD = (p) => ({ tag: 'symlink', val: { path: p, target: 'd', resolved: 'd', kind: 'dir', replace: false } });

test('a copy keeps the links that stay inside it and reports the others', () => {
  const dest = scratch();
  const out = new FsSink(dest, { symlinks: 'copy' }).apply(linkToD('c'));
  assert.equal(out.tag, 'degraded');
  assert.match(out.val.reason, /1 link or special file inside it was not copied/);
  assert.equal(fs.readFileSync(path.join(dest, 'c', 'f.txt'), 'utf8'), 'data');
  assert.equal(fs.readFileSync(path.join(dest, 'c', 'sub', 'g.txt'), 'utf8'), 'g');
  assert.equal(fs.readlinkSync(path.join(dest, 'c', 'in')), 'f.txt');
  assert.equal(fs.readlinkSync(path.join(dest, 'c', 'sub', 'up')), '../f.txt');
  assert.throws(() => fs.lstatSync(path.join(dest, 'c', 'out')), { code: 'ENOENT' });
  fs.rmSync(dest, { recursive: true });
});

test('copies are refused past the budget, entries counted, and leave nothing', () => {
  const dest = scratch();
  // d holds 2 directories, 2 files (5 bytes) and 3 links: 7 entries.
  const sink = new FsSink(dest, { symlinks: 'copy', maxCopyBytes: 6 * ENTRY_COST });
  assert.throws(() => sink.apply(linkToD('c')), (e) => /copies in place of links exceed/.test(e.payload));
  assert.equal(fs.existsSync(path.join(dest, 'c')), false);
  fs.rmSync(dest, { recursive: true });
});
