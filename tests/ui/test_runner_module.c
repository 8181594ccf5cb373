// TEST ONLY: a stand-in job function loaded by the editor under test (DIRIGENT_TEST_RUNNER=path of
// this module) in place of app/dg_runner's, so the UI tests can drive Generate, progress, preview,
// cancel, results and export without a model. It is not a generator: it paints a fixed test pattern (each
// class id a fixed colour, brightening with the step) and sleeps DG_TEST_STEP_MS per step.
#include <stdlib.h>
#include <time.h>

#include "dg_job.h"

dg_status dg_test_run(dg_job *job, const dg_job_params *p, void *user, dg_media *out);

dg_status dg_test_run(dg_job *job, const dg_job_params *p, void *user, dg_media *out) {
  (void)user;
  const char *ms_env = getenv("DG_TEST_STEP_MS");
  int ms = ms_env ? atoi(ms_env) : 30;
  size_t n = (size_t)p->width * p->height;
  uint8_t *img = malloc(n * 4);
  for (int s = 0; s < p->steps; s++) {
    if (dg_job_cancelled(job)) {
      free(img);
      return DG_ERR_CANCELLED;
    }
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    uint8_t level = (uint8_t)(s + 1 == p->steps ? 255 : 128 + 127 * s / p->steps);
    for (size_t i = 0; i < n; i++) {
      uint8_t id = p->layout[i];
      img[4 * i] = id == 255 ? 0 : (uint8_t)(id * 37 % 256 * level / 255);
      img[4 * i + 1] = id == 255 ? 0 : level;
      img[4 * i + 2] = (uint8_t)(id * 91 % 256);
      img[4 * i + 3] = 255;
    }
    dg_job_report(job, s + 1, p->steps, img, p->width, p->height);
  }
  *out = (dg_media){1, p->width, p->height, 4, img};
  return DG_OK;
}
