// squashfuse_ll under vfsim: Debian's libsquashfuse-dev ships squashfuse's
// low-level FUSE operations (sqfs_ll_op_*, <squashfuse/ll.h>) in
// libsquashfuse_ll.a, unmodified, but not the program's main (ll_main.c).
// This is our own main doing what squashfuse_ll's does, so the file system
// under test is squashfuse's own code:
//
//   squashfuse_ll [-o offset=N] IMAGE MOUNTPOINT [fuse options]
//
// - the operation table is the one squashfuse_ll installs: getattr,
//   opendir, releasedir, readdir, lookup, open, create (answers EROFS),
//   release, read, readlink, listxattr, getxattr, forget, statfs; every
//   other opcode is libfuse's ENOSYS;
// - the image is opened with sqfs_ll_open (a host file, read with pread),
//   the session made with sqfs_ll_mount (fuse_session_new + mount: inside
//   vfsim, /dev/fuse), and served by libfuse's single-threaded
//   fuse_session_loop: Debian builds squashfuse without
//   SQFS_MULTITHREADED (its block caches take no locks), so squashfuse_ll
//   never runs the multi-threaded loop, whatever `fuse.workers` says;
// - daemonize and signal handlers as squashfuse_ll calls them (no-ops in
//   the machine); the idle timeout (`-o timeout=N`, SIGALRM) is not
//   offered: vfsim has no signals;
// - one difference: squashfuse leaves closing the image to its process's
//   exit; here main closes it when the loop ends (many runs share one
//   process). A run killed mid-request still leaves that one host fd open.
// Written for vfsim (fsdrivers/fuse/CMakeLists.txt builds it with
// vfsim_add_fuse_fs); the facts come from squashfuse's ll_main.c.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll.h"  // <squashfuse/ll.h>: includes its siblings by bare name

struct sqll_options {
  char* image;    // the first argument that is not an option
  size_t offset;  // -o offset=N: where the squashfs starts in the file
};

static int sqll_opt_proc(void* data, const char* arg, int key, struct fuse_args* outargs) {
  (void)outargs;
  struct sqll_options* o = data;
  if (key == FUSE_OPT_KEY_NONOPT && o->image == NULL) {
    o->image = strdup(arg);
    return o->image == NULL ? -1 : 0;  // consumed: the rest is libfuse's
  }
  return 1;
}

int main(int argc, char* argv[]) {
  struct fuse_lowlevel_ops ops;
  memset(&ops, 0, sizeof(ops));
  ops.getattr = sqfs_ll_op_getattr;
  ops.opendir = sqfs_ll_op_opendir;
  ops.releasedir = sqfs_ll_op_releasedir;
  ops.readdir = sqfs_ll_op_readdir;
  ops.lookup = sqfs_ll_op_lookup;
  ops.open = sqfs_ll_op_open;
  ops.create = sqfs_ll_op_create;
  ops.release = sqfs_ll_op_release;
  ops.read = sqfs_ll_op_read;
  ops.readlink = sqfs_ll_op_readlink;
  ops.listxattr = sqfs_ll_op_listxattr;
  ops.getxattr = sqfs_ll_op_getxattr;
  ops.forget = sqfs_ll_op_forget;
  ops.statfs = stfs_ll_op_statfs;

  struct fuse_opt spec[] = {{"offset=%zu", offsetof(struct sqll_options, offset), 0}, FUSE_OPT_END};
  struct sqll_options o = {NULL, 0};
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct fuse_cmdline_opts cl;
  memset(&cl, 0, sizeof(cl));
  int status = 1;
  if (fuse_opt_parse(&args, &o, spec, sqll_opt_proc) == -1 || fuse_parse_cmdline(&args, &cl) != 0 ||
      o.image == NULL || cl.mountpoint == NULL) {
    fprintf(stderr, "usage: %s [-o offset=N] IMAGE MOUNTPOINT [fuse options]\n", argv[0]);
    goto out;
  }
  sqfs_ll* ll = sqfs_ll_open(o.image, o.offset);  // prints its own reason
  if (ll == NULL) goto out;
  sqfs_ll_chan ch;
  if (sqfs_ll_mount(&ch, cl.mountpoint, &args, &ops, sizeof(ops), ll) == SQFS_OK) {
    if (sqfs_ll_daemonize(cl.foreground) != -1 && fuse_set_signal_handlers(ch.session) != -1) {
      status = fuse_session_loop(ch.session) == 0 ? 0 : 1;
      fuse_remove_signal_handlers(ch.session);
    }
    sqfs_ll_destroy(ll);
    sqfs_ll_unmount(&ch, cl.mountpoint);
  } else {
    sqfs_ll_destroy(ll);
  }
  // squashfuse never closes the image (its process exit does); a daemon in
  // vfsim is one of many runs in one process, so main closes it here.
  sqfs_fd_close(ll->fs.fd);
  free(ll);
out:
  fuse_opt_free_args(&args);
  free(cl.mountpoint);
  free(o.image);
  return status;
}
