#!/bin/sh
# Without any Vulkan driver the CLI must print a clear message and exit non-zero, never crash.
cli="$1"
out=$(VK_ICD_FILENAMES=/nonexistent/icd.json VK_DRIVER_FILES=/nonexistent/icd.json "$cli" device 2>&1)
rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL: exit status $rc, expected 1"; exit 1; }
echo "$out" | grep -q "no Vulkan" || { echo "FAIL: no clear message"; exit 1; }
echo "ok: clear error and exit status 1"
