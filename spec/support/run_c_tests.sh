#!/bin/sh
# Run the C-only test binaries (TAP) and print "c: N passed, N failed".
pass=0; fail=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | grep -c '^ok ')
  f=$(printf '%s\n' "$out" | grep -c '^not ok ')
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or sanitizer report
  [ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -v '^ok ' | sed "s|^|  $(basename "$t"): |"
  pass=$((pass + p)); fail=$((fail + f))
done
echo "c: $pass passed, $fail failed"
