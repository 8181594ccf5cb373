# The shared part of the Xvfb UI tests (ui_timeline.sh, ui_style.sh), sourced with the script's arguments
# after it set OUT (its output folder) and DESKTOP (the .desktop file): the first run re-executes the script
# under xvfb-run and a D-Bus session (77, skipped, without them); then the environment, the application id,
# and the helpers: check DESCRIPTION COMMAND..., act ACTION [PARAM] (gapplication), q TEXT (a GVariant string),
# state KEY (dump-state's value), start (the editor, waiting for its bus name), wait_for KEY VALUE POLLS,
# is A B, has TEXT PART, rebundle SRC DST EXPR (a copy of a project bundle whose project.json is EXPR of its
# bytes b, json imported). The caller reports $fails at the end.
if [ -z "${DG_UI_INNER:-}" ]; then
  command -v xvfb-run >/dev/null && command -v dbus-run-session >/dev/null || { echo "no xvfb-run/dbus"; exit 77; }
  rm -rf "$OUT" && mkdir -p "$OUT"
  DG_UI_INNER=1 exec xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- bash "$0" "$@"
fi

export XDG_STATE_HOME="$OUT/state" XDG_CONFIG_HOME="$OUT/config" XDG_DATA_HOME="$OUT/data"
export GSK_RENDERER=cairo GDK_BACKEND=x11 GTK_A11Y=none NO_AT_BRIDGE=1
APPID=org.dirigent.Dirigent
PY=/usr/bin/python3
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
act() { gapplication action $APPID "$@"; }
q() { printf "'%s'" "$1"; } # a GVariant string literal
state() { act dump-state "$(q "$OUT/state.json")" && $PY -c "import json,sys; print(json.load(open('$OUT/state.json'))[sys.argv[1]])" "$1"; }
start() {
  "$DIRIGENT" >>"$OUT/app.log" 2>&1 &
  APP=$!
  for _ in $(seq 100); do
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.NameHasOwner $APPID 2>/dev/null | grep -q true && return 0
    sleep 0.1
  done
  echo "the editor did not start"; cat "$OUT/app.log"; exit 1
}
wait_for() { # wait_for KEY VALUE POLLS (0.2 s each)
  for _ in $(seq "$3"); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.2; done
  echo "  $1 = $(state "$1"), expected $2"
  return 1
}
is() { [ "$1" = "$2" ] || { echo "  '$1' is not '$2'"; return 1; }; }
has() { [[ "$1" == *"$2"* ]] || { echo "  '$1' lacks '$2'"; return 1; }; }
rebundle() { $PY -c "
import zipfile, json
src, dst = zipfile.ZipFile('$1'), zipfile.ZipFile('$2', 'w')
for n in src.namelist(): b = src.read(n); dst.writestr(n, ($3) if n == 'project.json' else b)
dst.close()"; }
mkdir -p "$XDG_DATA_HOME/applications"
cp "$DESKTOP" "$XDG_DATA_HOME/applications/"
