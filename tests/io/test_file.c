// Input files: only regular files are opened. A FIFO (no writer: an open without O_NONBLOCK blocks for
// ever), a device (/dev/zero never ends) or a directory as a model, config, tokenizer or any file read
// through dg_file is refused at once with a message naming the path; reads are capped in size. An
// alarm turns a hang into a failure.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dg_file.h"
#include "dg_model_config.h"
#include "dg_safetensors.h"
#include "dg_tokenizer.h"
#include "dg_weights.h"
#include "io_util.h"

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "test_file: FAIL: blocked on a FIFO or device for 20 s\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(1);
}

static void refused(dg_status got, const char *path, const char *kind, const char *what) {
  char want[512];
  snprintf(want, sizeof want, "%s: not a regular file (%s)", path, kind);
  dg_check_error(got, DG_ERR_IO, want, what);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  alarm(20);
  char *dir = io_tmpdir();
  char fifo[512], file[512], sub[512], big[512];
  snprintf(fifo, sizeof fifo, "%s/model.safetensors", dir);
  snprintf(file, sizeof file, "%s/small.txt", dir);
  snprintf(sub, sizeof sub, "%s/folder", dir);
  snprintf(big, sizeof big, "%s/big.txt", dir);
  dg_check(mkfifo(fifo, 0600) == 0 && io_mkdirs(sub), "mkfifo and a folder");
  dg_check(io_write_file(file, "hello", 5), "write a file");

  // dg_file itself.
  char *data = NULL;
  size_t n = 0;
  if (dg_check_status(dg_file_read(file, 5, &data, &n), "a 5-byte file within a 5-byte limit"))
    dg_check(n == 5 && !strcmp(data, "hello"), "contents and NUL");
  free(data);
  dg_check_error(dg_file_read(file, 4, &data, &n), DG_ERR_FORMAT, "small.txt: 5 bytes, more than the limit of 4 bytes",
                 "size cap");
  dg_check(data == NULL && n == 0, "nothing returned past the cap");
  refused(dg_file_read(fifo, 100, &data, &n), fifo, "a FIFO", "FIFO");
  refused(dg_file_read("/dev/zero", 100, &data, &n), "/dev/zero", "a character device", "/dev/zero");
  refused(dg_file_read(sub, 100, &data, &n), sub, "a directory", "directory");
  dg_check_error(dg_file_read("/nonexistent/x", 100, &data, &n), DG_ERR_IO, "/nonexistent/x: cannot open", "missing");
  FILE *f = NULL;
  refused(dg_file_fopen(fifo, &f), fifo, "a FIFO", "FIFO as a stream");
  dg_check(!f, "no stream");
  if (dg_check_status(dg_file_fopen(file, &f), "a stream on a regular file")) {
    char buf[8] = {0};
    dg_check(fread(buf, 1, sizeof buf, f) == 5 && !strcmp(buf, "hello"), "stream contents");
    fclose(f);
  }
  // A file that grows past the cap while it is read (its size was small when opened) is still capped:
  // /proc files report size 0.
  if (dg_check_status(dg_file_read("/proc/self/status", 1 << 20, &data, &n), "a /proc file (size 0 in stat)"))
    dg_check(n > 0 && strstr(data, "Name:"), "read to its end");
  free(data);
  dg_check_error(dg_file_read("/proc/self/status", 16, &data, &n), DG_ERR_FORMAT, "more than the limit of 16 bytes",
                 "a /proc file past the cap");

  // The model readers (item 6 of the hostile-inputs issue: a FIFO as model blocked for ever).
  dg_safetensors *st = NULL;
  refused(dg_safetensors_open(fifo, &st), fifo, "a FIFO", "safetensors FIFO");
  refused(dg_safetensors_open("/dev/zero", &st), "/dev/zero", "a character device", "safetensors /dev/zero");
  dg_weights *w = NULL;
  dg_check_error(dg_weights_open(fifo, &w), DG_ERR_IO, "model.safetensors: not a model file or folder (a FIFO",
                 "weights FIFO");
  dg_check_error(dg_weights_open("/dev/zero", &w), DG_ERR_IO, "/dev/zero: not a model file or folder",
                 "weights /dev/zero");
  // A FIFO as the sidecar configuration PATH.json.
  char weights[512], sidecar[512];
  snprintf(weights, sizeof weights, "%s/unet.safetensors", dir);
  snprintf(sidecar, sizeof sidecar, "%s/unet.json", dir);
  dg_check(mkfifo(sidecar, 0600) == 0, "mkfifo sidecar");
  dg_model_config cfg;
  refused(dg_model_config_load(weights, NULL, &cfg), sidecar, "a FIFO", "config sidecar FIFO");
  // A FIFO as the tokenizer's vocab.json.
  char tok[512], vocab[600], merges[600];
  snprintf(tok, sizeof tok, "%s/tokenizer", dir);
  snprintf(vocab, sizeof vocab, "%s/vocab.json", tok);
  snprintf(merges, sizeof merges, "%s/merges.txt", tok);
  dg_check(io_mkdirs(tok) && mkfifo(vocab, 0600) == 0 && io_write_file(merges, "#version: 0.2\n", 14),
           "tokenizer folder");
  dg_tokenizer *t = NULL;
  dg_check_error(dg_tokenizer_load(tok, &t), DG_ERR_IO, "vocab.json: not a regular file (a FIFO)", "tokenizer FIFO");
  io_rmtree(dir);
  free(dir);
  return dg_check_finish("test_file");
}
