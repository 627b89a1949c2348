// uncork's planner component under Node: `jco transpile` of target/wasm/uncork-planner.wasm
// (scripts/build-wasm.sh writes it to target/wasm/js/) plus a sink that writes with node:fs.
//
// The component decides everything (what each entry becomes, the order, the policy); this
// file only carries actions out below one directory:
// - nothing is opened through a symlink: files are created with O_EXCL | O_NOFOLLOW, an
//   existing directory is accepted only if lstat says it is one, mtimes are set with lutimes;
// - nothing existing is overwritten (an entry the archive itself replaces is unlinked first);
// - a symlink the platform refuses becomes a copy of the already-extracted target, reported;
// - modes are applied (fchmod / chmod) where the platform has them, else reported.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the transpiled bindings are: $UNCORK_JS_BINDINGS, else target/wasm/js/. */
export function bindingsPath() {
  return process.env.UNCORK_JS_BINDINGS
    ?? path.join(here, '..', '..', 'target', 'wasm', 'js', 'uncork-planner.js');
}

/** Loads the transpiled planner: an object with `plan(options)`. */
export async function loadPlanner(imports, bindings = bindingsPath()) {
  const { instantiate } = await import(new URL(`file://${path.resolve(bindings)}`).href);
  const dir = path.dirname(bindings);
  return instantiate((name) => WebAssembly.compile(fs.readFileSync(path.join(dir, name))), imports);
}

/** Options with every knob left to the preset. */
export function presetOptions(preset = 'data') {
  return { policy: { preset, limits: {} }, stripComponents: 0 };
}

/** An error the sink hands back to the component as `err(message)`. */
function refuse(message) {
  const e = new Error(message);
  e.payload = message;
  return e;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW = 0 } = fs.constants;
const hasModes = process.platform !== 'win32';

/**
 * What one entry a copy makes (a file, a directory, a link) takes from the copy budget, on top
 * of a file's data: the WASI host's number, so that the default budget (16 GiB, the default
 * total-size limit) allows about a million entries, the default entry limit, and links to
 * links to directories cannot fill a disk's inodes. (The native host counts entries against
 * the entry limit itself; one rule for every host is the decision-layer issue's work.)
 */
export const ENTRY_COST = 16 * 1024;
/** The default copy budget: the default total-size limit. */
export const MAX_COPY_BYTES = 16 * 1024 ** 3;

/**
 * Whether a link inside a copied directory, `depth` directories below the top of the copy, may
 * keep `target`: a relative target whose `..` steps all come first and climb no higher than
 * the top of the copy, so that it resolves inside the copy wherever the copy stands (the same
 * rule as the native and WASI hosts').
 */
export function targetStaysInside(target, depth) {
  if (target === '' || target.startsWith('/') || target.includes('\\') || target.includes(':')) return false;
  let ups = 0;
  let descended = false;
  for (const component of target.split('/')) {
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (descended) return false;
      ups += 1;
    } else {
      descended = true;
    }
  }
  return ups <= depth;
}

/**
 * The sink: carries actions out below `dest`. `symlinks` is 'auto', 'copy' or 'skip'; `fresh`
 * when the caller made `dest` for this run and removes it whole if the run fails: nothing
 * below it is recorded then, and undo() has nothing to remove (see extract()).
 */
export class FsSink {
  constructor(dest, { symlinks = 'auto', fresh = false, maxCopyBytes = MAX_COPY_BYTES } = {}) {
    this.dest = dest;
    this.symlinks = symlinks;
    this.current = null;
    // What copies in place of links took so far (bytes of data, and ENTRY_COST for every entry
    // they made), and the most allowed.
    this.copied = 0;
    this.maxCopyBytes = Number(maxCopyBytes);
    // What this run created, in order, so that a failed run removes it again: not what is
    // inside a directory it made (see record()).
    this.created = [];
    // The directories this run made; '' is `dest` itself when `fresh`, so nothing below it is
    // listed.
    this.createdDirs = new Set(fresh ? [''] : []);
    // Directories that were there before, with their times, restored by undo().
    this.existing = new Map();
  }

  /** Removes what this run created, newest first; returns what could not be removed. */
  undo() {
    if (this.current) {
      fs.closeSync(this.current.fd);
      this.current = null;
    }
    const left = [];
    for (const { p, tree } of this.created.reverse()) {
      try {
        // A directory (made or copied) is listed as a tree; anything else is a file or link.
        if (tree) fs.rmSync(this.at(p), { recursive: true, force: true });
        else fs.unlinkSync(this.at(p));
      } catch (e) {
        if (e.code !== 'ENOENT') left.push(`${p} (${e.code ?? e.message})`);
      }
    }
    this.created = [];
    for (const [p, st] of this.existing) {
      try {
        fs.utimesSync(this.at(p), st.atime, st.mtime);
      } catch (e) {
        left.push(`${p} (times: ${e.code ?? e.message})`);
      }
    }
    return left;
  }

  at(p) {
    return path.join(this.dest, ...p.split('/'));
  }

  /**
   * Notes what this run created, for undo(); `dir` for a directory or a copied tree, which
   * undo() removes whole. What is inside a directory this run made is not listed (it goes with
   * that directory), so the list grows only with what lands in directories that were there.
   */
  record(entry, { dir = false } = {}) {
    const slash = entry.p.lastIndexOf('/');
    const insideMade = this.createdDirs.has(slash === -1 ? '' : entry.p.slice(0, slash));
    // Looked up when a directory is met again: a Set, not a search of the growing list.
    if (dir) this.createdDirs.add(entry.p);
    if (!insideMade) this.created.push(dir ? { ...entry, tree: true } : entry);
  }

  remove(p) {
    try {
      fs.unlinkSync(this.at(p));
    } catch (e) {
      if (e.code !== 'ENOENT') throw refuse(`cannot remove '${p}': ${e.message}`);
    }
  }

  makeDir(p) {
    try {
      fs.mkdirSync(this.at(p));
      this.record({ p }, { dir: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw refuse(`cannot create directory '${p}': ${e.message}`);
      const st = fs.lstatSync(this.at(p));
      if (st.isSymbolicLink()) {
        throw refuse(`'${p}' already exists in the destination as a symlink; uncork does not write through it`);
      }
      if (!st.isDirectory()) {
        throw refuse(`'${p}' already exists in the destination and is not a directory`);
      }
      if (!this.existing.has(p) && !this.createdDirs.has(p)) this.existing.set(p, st);
    }
  }

  /** Takes `amount` from the copy budget, or refuses when it is spent. */
  charge(amount) {
    this.copied += amount;
    if (this.copied > this.maxCopyBytes) {
      throw refuse(`copies in place of links exceed ${this.maxCopyBytes} bytes (every file, directory and link a copy makes counts ${ENTRY_COST} bytes besides its data)`);
    }
  }

  /**
   * Copies the already-extracted file or directory `from` to `to`, never following a link;
   * returns how many entries inside it were left out (links that could reach out of the copy,
   * special files). A failed copy leaves nothing behind.
   */
  copy(from, to) {
    const src = this.at(from);
    const dst = this.at(to);
    let made = false;
    try {
      const st = fs.lstatSync(src);
      let dropped = 0;
      if (st.isDirectory()) {
        made = true;
        dropped = this.copyTree(src, dst, st, 0);
      } else if (st.isFile()) {
        made = true;
        this.copyFile(src, dst, st);
      } else {
        throw new Error('not a file or directory');
      }
      this.record({ p: to, tree: true }, { dir: true });
      return dropped;
    } catch (e) {
      if (made && e.code !== 'EEXIST') fs.rmSync(dst, { recursive: true, force: true });
      if (e.payload) throw e;
      if (e.code === 'EEXIST') throw refuse(`'${to}' already exists in the destination; uncork never overwrites`);
      throw refuse(`cannot copy '${from}' to '${to}': ${e.message}`);
    }
  }

  copyFile(src, dst, st) {
    this.charge(ENTRY_COST + st.size);
    // COPYFILE_EXCL: never onto anything that exists, a dangling link included.
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL);
    if (hasModes) fs.chmodSync(dst, st.mode & 0o7777);
    fs.utimesSync(dst, st.atime, st.mtime);
  }

  /** Each entry is classified by lstat: never by what a listing says, never through a link. */
  copyTree(src, dst, st, depth) {
    this.charge(ENTRY_COST);
    fs.mkdirSync(dst);
    let dropped = 0;
    for (const name of fs.readdirSync(src).sort()) {
      const s = path.join(src, name);
      const d = path.join(dst, name);
      const child = fs.lstatSync(s);
      if (child.isDirectory()) {
        dropped += this.copyTree(s, d, child, depth + 1);
      } else if (child.isFile()) {
        this.copyFile(s, d, child);
      } else if (child.isSymbolicLink()) {
        this.charge(ENTRY_COST);
        const target = fs.readlinkSync(s);
        let kept = false;
        if (targetStaysInside(target, depth)) {
          let kind = 'file';
          try {
            if (fs.statSync(s).isDirectory()) kind = 'dir';
          } catch { /* a dangling link: a file link */ }
          try {
            fs.symlinkSync(target, d, kind);
            kept = true;
          } catch (e) {
            if (e.code === 'EEXIST') throw e;
          }
        }
        if (!kept) dropped += 1;
      } else {
        dropped += 1;
      }
    }
    if (hasModes) fs.chmodSync(dst, st.mode & 0o7777);
    fs.utimesSync(dst, st.atime, st.mtime);
    return dropped;
  }

  symlink({ path: p, target, resolved, kind }) {
    const copyInstead = (reason) => {
      if (resolved === undefined || (kind !== 'file' && kind !== 'dir')) {
        return degraded('symlink', { tag: 'skipped' }, `${reason}; its target is ${kind}, nothing to copy`);
      }
      const dropped = this.copy(resolved, p);
      const left = dropped === 0 ? ''
        : `; ${dropped} ${dropped === 1 ? 'link or special file inside it was' : 'links or special files inside it were'} not copied (a link is kept only where it cannot reach out of the copy)`;
      return degraded('symlink', { tag: 'copy', val: resolved }, reason + left);
    };
    if (this.symlinks === 'skip') return degraded('symlink', { tag: 'skipped' }, '--symlinks skip');
    if (this.symlinks === 'copy') return copyInstead('--symlinks copy');
    try {
      fs.symlinkSync(target, this.at(p), kind === 'dir' ? 'dir' : 'file');
      this.record({ p });
      return { tag: 'done' };
    } catch (e) {
      if (e.code === 'EEXIST') throw refuse(`'${p}' already exists in the destination; uncork never overwrites`);
      return copyInstead(`the platform refused the symlink: ${e.code ?? e.message}`);
    }
  }

  /** The `apply` import: one action in, an outcome out (or a thrown refusal). */
  apply(action) {
    const a = action.val;
    switch (action.tag) {
      case 'make-dir':
        if (a.replace) this.remove(a.path);
        this.makeDir(a.path);
        return { tag: 'done' };
      case 'begin-file': {
        if (a.replace) this.remove(a.path);
        let fd;
        try {
          fd = fs.openSync(this.at(a.path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          this.record({ p: a.path });
        } catch (e) {
          if (e.code === 'EEXIST') throw refuse(`'${a.path}' already exists in the destination; uncork never overwrites`);
          throw refuse(`cannot create '${a.path}': ${e.message}`);
        }
        this.current = { fd, ...a };
        return { tag: 'done' };
      }
      case 'file-data': {
        const data = action.val;
        let off = 0;
        while (off < data.length) off += fs.writeSync(this.current.fd, data, off, data.length - off);
        return { tag: 'done' };
      }
      case 'end-file': {
        const { fd, path: p, mode, mtime } = this.current;
        this.current = null;
        try {
          if (hasModes) fs.fchmodSync(fd, mode);
          if (mtime !== undefined) fs.futimesSync(fd, Number(mtime), Number(mtime));
        } finally {
          fs.closeSync(fd);
        }
        return hasModes ? { tag: 'done' } : degraded('mode', { tag: 'skipped' }, 'no modes on this platform');
      }
      case 'hard-link':
        if (a.replace) this.remove(a.path);
        try {
          fs.linkSync(this.at(a.target), this.at(a.path));
          this.record({ p: a.path });
          return { tag: 'done' };
        } catch (e) {
          if (e.code === 'EEXIST') throw refuse(`'${a.path}' already exists in the destination; uncork never overwrites`);
          this.copy(a.target, a.path);
          return degraded('hard-link', { tag: 'copy', val: a.target }, `the platform refused the hard link: ${e.code}`);
        }
      case 'symlink':
        if (a.replace) this.remove(a.path);
        return this.symlink(a);
      case 'set-mode':
        if (!hasModes) return degraded('mode', { tag: 'skipped' }, 'no modes on this platform');
        fs.chmodSync(this.at(a.path), a.mode);
        return { tag: 'done' };
      case 'set-mtime':
        fs.lutimesSync(this.at(a.path), Number(a.mtime), Number(a.mtime));
        return { tag: 'done' };
      case 'skip':
        return { tag: 'done' };
      default:
        throw refuse(`unknown action ${action.tag}`);
    }
  }
}

function degraded(effect, fallback, reason) {
  return { tag: 'degraded', val: { effect, fallback, reason } };
}

/** A source over a file descriptor (random access), or over bytes in memory. */
export function fileSource(archive) {
  if (archive === '-') return bytesSource(fs.readFileSync(0));
  const fd = fs.openSync(archive, 'r');
  const size = BigInt(fs.fstatSync(fd).size);
  return {
    size: () => size,
    read: () => { throw refuse('this source is read with read-at'); },
    readAt: (offset, len) => {
      const buf = Buffer.allocUnsafe(len);
      let n = 0;
      while (n < len) {
        const got = fs.readSync(fd, buf, n, len - n, offset + BigInt(n));
        if (got === 0) break;
        n += got;
      }
      return buf.subarray(0, n);
    },
    close: () => fs.closeSync(fd),
  };
}

export function bytesSource(bytes) {
  return {
    size: () => BigInt(bytes.length),
    read: () => { throw refuse('this source is read with read-at'); },
    readAt: (offset, len) => bytes.subarray(Number(offset), Number(offset) + len),
    close: () => {},
  };
}

/**
 * Extracts `archive` (a path, or '-' for stdin) into `dest` (created when missing). Returns the
 * report; throws the component's error (`e.payload` is `{ tag, val }`, the rule name in
 * `val.rule` for `format` and `refused`).
 */
export async function extract(archive, dest, { options = presetOptions(), symlinks = 'auto', bindings } = {}) {
  // The archive first: a run that cannot read it makes no destination.
  const source = fileSource(archive);
  // The first directory made, if `dest` was missing: removed again if the run fails. Resolved
  // first: of `new/../old`, mkdirSync would report `new` made although `old` was there.
  let made;
  try {
    made = fs.mkdirSync(path.resolve(dest), { recursive: true });
  } catch (e) {
    source.close();
    throw e;
  }
  // Copies in place of links may write as much as the archive itself (the native host's rule).
  const maxCopyBytes = options?.policy?.limits?.maxTotalBytes ?? MAX_COPY_BYTES;
  const sink = new FsSink(dest, { symlinks, fresh: made !== undefined, maxCopyBytes });
  try {
    const sinkImport = { apply: (action) => sink.apply(action) };
    // jco's typings name the interfaces with their version, its code without: give both.
    const planner = await loadPlanner({
      'uncork:extract/source': source,
      'uncork:extract/sink': sinkImport,
      'uncork:extract/types': {},
      'uncork:extract/source@0.1.0': source,
      'uncork:extract/sink@0.1.0': sinkImport,
      'uncork:extract/types@0.1.0': {},
    }, bindings);
    return await planner.plan(options);
  } catch (e) {
    // A failed extraction leaves nothing behind.
    const left = sink.undo();
    if (made !== undefined) {
      try {
        fs.rmSync(made, { recursive: true, force: true });
      } catch (err) {
        left.push(`${made} (${err.code ?? err.message})`);
      }
    }
    for (const p of left) process.stderr.write(`warning: could not remove ${p} after the failure\n`);
    throw e;
  } finally {
    if (sink.current) fs.closeSync(sink.current.fd);
    source.close();
  }
}
