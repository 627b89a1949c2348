#!/usr/bin/python3
"""A pass-through FUSE filesystem whose directory listings give no file type (DT_UNKNOWN), as
FUSE filesystems, some NFS servers and XFS without ftype do. Used by tests/copy_fallback.rs.

usage: untyped_fs.py ROOT MOUNTPOINT   (stays in the foreground; needs python3-fusepy)
"""

import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class Untyped(Operations):
    def __init__(self, root):
        self.root = os.path.realpath(root)

    def _p(self, path):
        return self.root + path

    def __call__(self, op, path, *args):
        try:
            return super().__call__(op, self._p(path), *args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def access(self, path, mode):
        if not os.access(path, mode, follow_symlinks=False):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.lstat(path)
        return {k: getattr(st, k) for k in (
            'st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime', 'st_nlink', 'st_size',
            'st_uid', 'st_ino')}

    def readdir(self, path, fh):
        # Names only: the kernel then reports DT_UNKNOWN for every entry.
        return ['.', '..'] + os.listdir(path)

    def readlink(self, path):
        return os.readlink(path)

    def mkdir(self, path, mode):
        return os.mkdir(path, mode)

    def rmdir(self, path):
        return os.rmdir(path)

    def unlink(self, path):
        return os.unlink(path)

    def symlink(self, target, source):
        # fusepy passes (link name, target); the link name is already prefixed by __call__.
        return os.symlink(source, target)

    def link(self, target, source):
        return os.link(self._p(source), target)

    def rename(self, old, new):
        return os.rename(old, self._p(new))

    def chmod(self, path, mode):
        return os.chmod(path, mode, follow_symlinks=False)

    def chown(self, path, uid, gid):
        return os.chown(path, uid, gid, follow_symlinks=False)

    def utimens(self, path, times=None):
        return os.utime(path, times, follow_symlinks=False)

    def truncate(self, path, length, fh=None):
        with open(path, 'r+') as f:
            f.truncate(length)

    def open(self, path, flags):
        return os.open(path, flags)

    def create(self, path, mode, fi=None):
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return os.fsync(fh)

    def release(self, path, fh):
        return os.close(fh)

    def statfs(self, path):
        st = os.statvfs(path)
        return {k: getattr(st, k) for k in (
            'f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files',
            'f_flag', 'f_frsize', 'f_namemax')}


if __name__ == '__main__':
    FUSE(Untyped(sys.argv[1]), sys.argv[2], foreground=True, nothreads=True)
