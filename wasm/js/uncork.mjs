#!/usr/bin/env node
// uncork-js ARCHIVE [-C DIR] [--policy P] [--strip-components N] [--symlinks auto|copy|skip] [--json]
//
// Extracts with uncork's planner component under Node (jco), writing with node:fs.
// Exit codes: 0 extracted; 1 refused or damaged; 2 usage, or reading or writing failed.

import { extract, presetOptions } from './lib.mjs';

function usage(message) {
  process.stderr.write(`error: ${message}\n`
    + 'usage: uncork-js ARCHIVE [-C DIR] [--policy data|tar|trusted|portable] '
    + '[--strip-components N] [--symlinks auto|copy|skip] [--json]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let archive;
let dest = '.';
let preset = 'data';
let strip = 0;
let symlinks = 'auto';
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
  if (a === '-C') dest = value();
  else if (a === '--policy') preset = value();
  else if (a === '--strip-components') strip = Number(value());
  else if (a === '--symlinks') symlinks = value();
  else if (a === '--json') json = true;
  else if (a.startsWith('-') && a !== '-') usage(`unknown option '${a}'`);
  else if (archive === undefined) archive = a;
  else usage(`unexpected argument '${a}'`);
}
if (archive === undefined) usage('no archive given');
if (!['data', 'tar', 'trusted', 'portable'].includes(preset)) usage(`unknown policy '${preset}'`);
if (!['auto', 'copy', 'skip'].includes(symlinks)) usage(`unknown symlink mode '${symlinks}'`);
if (!Number.isInteger(strip) || strip < 0) usage('--strip-components needs a number');

const options = presetOptions(preset);
options.stripComponents = strip;
const plain = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x));

try {
  const report = await extract(archive, dest, { options, symlinks });
  if (json) {
    process.stdout.write(`${plain({ ok: true, ...report })}\n`);
  } else {
    process.stdout.write(`extracted ${report.entries} entries into ${dest}: ${report.files} files, `
      + `${report.dirs} directories, ${report.symlinks} symlinks, ${report.hardLinks} hard links, `
      + `${report.bytes} bytes\n`);
    for (const s of report.skipped) process.stdout.write(`skipped ${s.path} (${s.rule})\n`);
    for (const d of report.degradations) {
      const f = d.degradation.fallback;
      const instead = f.tag === 'copy' ? `copy of ${f.val}` : f.tag;
      process.stdout.write(`${d.path}: ${d.degradation.effect} → ${instead} (${d.degradation.reason})\n`);
    }
  }
} catch (e) {
  // Opening the archive or making the destination failed before the planner ran: an I/O
  // error with Node's code (ENOENT, EACCES, ...), reported as the component's `input` error is.
  const err = e?.payload ?? (typeof e?.code === 'string' && e.syscall
    ? { tag: 'input', val: e.message } : undefined);
  if (!err?.tag) throw e; // a bug or a trap, not an extraction error
  const v = err.val;
  const message = typeof v === 'string' ? v
    : err.tag === 'host' ? `${v.action} failed at '${v.location.path ?? ''}': ${v.message}`
      : `${v.rule}: ${v.detail}`;
  if (json) {
    const location = v?.location ?? null;
    process.stdout.write(`${plain({ ok: false, error: { kind: err.tag, rule: v?.rule ?? null, message, hint: v?.hint ?? null, location } })}\n`);
  } else {
    process.stderr.write(`error: ${message}\n`);
    if (v?.hint) process.stderr.write(`hint: ${v.hint}\n`);
  }
  // As the native CLI: 1 the archive was refused or is damaged, 2 reading or writing failed.
  process.exitCode = err.tag === 'host' || err.tag === 'input' ? 2 : 1;
}
