#!/bin/sh
# scrapyd for hltv-scraper, on 127.0.0.1 with basic auth.
#
#   deploy/scrapyd.sh start    start scrapyd (unless running), deploy the project, print how
#                              to schedule the spiders (what `make scrapyd` runs)
#   deploy/scrapyd.sh deploy   deploy the project again to the running scrapyd
#   deploy/scrapyd.sh status   is it running, and what it says about itself
#   deploy/scrapyd.sh stop     stop scrapyd; running crawls get SIGTERM (Scrapy's graceful
#                              stop: maps not finished stay pending)
#
# The credentials come from the environment only, SCRAPYD_USERNAME and SCRAPYD_PASSWORD:
# scrapyd reads them there, and scrapy.cfg's [deploy:local] expands them for
# scrapyd-deploy. Nothing secret is written to a file.
#
# scrapyd runs from the project's virtualenv (jobs run with scrapyd's own interpreter) in
# data/scrapyd/, with deploy/scrapyd.conf copied there as ./scrapyd.conf (see that file).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-.venv}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
CONF=$ROOT/deploy/scrapyd.conf
DIR=$ROOT/data/scrapyd
PIDFILE=$DIR/scrapyd.pid
LOGFILE=$DIR/scrapyd.log
PORT=$(sed -n 's/^http_port *= *\([0-9][0-9]*\).*/\1/p' "$CONF")
URL=http://127.0.0.1:$PORT
PROJECT=hltv_scraper

die() {
    echo "scrapyd: $*" >&2
    exit 1
}

require_credentials() {
    if [ -z "${SCRAPYD_USERNAME:-}" ] || [ -z "${SCRAPYD_PASSWORD:-}" ]; then
        die "set SCRAPYD_USERNAME and SCRAPYD_PASSWORD in the environment first, e.g.
    export SCRAPYD_USERNAME=hltv SCRAPYD_PASSWORD='a long random secret'
scrapyd takes its basic-auth credentials from them, and so does scrapyd-deploy (scrapy.cfg).
Without them scrapyd would accept anyone; they are never written to a file."
    fi
    case $SCRAPYD_USERNAME in *:*) die "SCRAPYD_USERNAME must not contain ':'" ;; esac
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# HTTP status of an authenticated GET (000 when nothing answers). Python rather than
# `curl -u`, so the password never shows on a command line.
http_status() {
    "$VENV/bin/python" - "$URL/$1" <<'EOF'
import base64, os, sys, urllib.error, urllib.request
token = base64.b64encode(f"{os.environ['SCRAPYD_USERNAME']}:{os.environ['SCRAPYD_PASSWORD']}".encode()).decode()
request = urllib.request.Request(sys.argv[1], headers={"Authorization": f"Basic {token}"})
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
try:
    with direct.open(request, timeout=2) as response:
        print(response.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print("000")
EOF
}

start() {
    require_credentials
    [ -x "$VENV/bin/scrapyd" ] || die "$VENV/bin/scrapyd not found: run make install"
    # scrapyd 1.6 runs jobs through pkg_resources, gone in setuptools 81: deploys would
    # still succeed and every job die silently.
    "$VENV/bin/python" -W ignore -c "import pkg_resources" 2>/dev/null \
        || die "scrapyd needs pkg_resources: $VENV/bin/pip install 'setuptools<81'"
    mkdir -p "$DIR"
    if pid=$(running_pid); then
        echo "scrapyd is already running (pid $pid); deploying again"
    else
        cp "$CONF" "$DIR/scrapyd.conf"
        rm -f "$PIDFILE"
        # A session of its own: not stopped by a Ctrl-C in this terminal, and `stop`
        # reaches its crawls too (they share its process group).
        detach=
        command -v setsid >/dev/null 2>&1 && detach=setsid
        (cd "$DIR" && $detach nohup "$VENV/bin/scrapyd" --pidfile "$PIDFILE" --logfile "$LOGFILE" \
            >>"$DIR/scrapyd.out" 2>&1 </dev/null &)
        waited=0
        while status=$(http_status daemonstatus.json) && [ "$status" != 200 ]; do
            if [ "$status" = 401 ]; then
                die "$URL answers but refuses these credentials: is another scrapyd running there?"
            fi
            waited=$((waited + 1))
            if [ "$waited" -gt 60 ]; then
                tail -n 20 "$LOGFILE" "$DIR/scrapyd.out" >&2 2>/dev/null || true
                die "scrapyd did not answer on $URL within 30 s (log: $LOGFILE)"
            fi
            sleep 0.5
        done
        echo "scrapyd started on $URL (pid $(running_pid), log $LOGFILE)"
    fi
    deploy
    usage
}

deploy() {
    require_credentials
    running_pid >/dev/null || die "scrapyd is not running: deploy/scrapyd.sh start"
    # Builds the egg with setup.py (package + SQL migrations, no tests or fixtures) and
    # uploads it; credentials from scrapy.cfg's [deploy:local], i.e. the environment.
    # Straight to 127.0.0.1, never through a proxy from the environment.
    out=$(cd "$ROOT" && NO_PROXY="127.0.0.1${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1${no_proxy:+,$no_proxy}" \
        "$VENV/bin/scrapyd-deploy" local) || die "deploy failed: $out"
    case $out in
        *'"status": "ok"'*) echo "deployed: $out" ;;
        *) die "deploy failed: $out" ;;
    esac
}

usage() {
    data=$ROOT/data
    cat <<EOF

Schedule the chain (one job at a time, highest priority first, so in this order):
settings are -d setting=NAME=VALUE, spider arguments -d NAME=VALUE. Paths must be
absolute: jobs run in $DIR/, where relative ones would land.

  for job in "results 4" "matches 3" "map_stats 2" "perf_economy 1"; do
    set -- \$job
    curl -u "\$SCRAPYD_USERNAME:\$SCRAPYD_PASSWORD" $URL/schedule.json \\
      -d project=$PROJECT -d spider=\$1 -d priority=\$2 \\
      -d setting=HLTV_DB_PATH=$data/hltv.sqlite3 \\
      -d setting=HLTV_ARCHIVE_DIR=$data/archive
  done

Matches added by hand: .venv/bin/scrapy addmatches -s HLTV_DB_PATH=$data/hltv.sqlite3 --csv matches.csv
Jobs:   curl -u "\$SCRAPYD_USERNAME:\$SCRAPYD_PASSWORD" '$URL/listjobs.json?project=$PROJECT'
Logs:   $DIR/logs/$PROJECT/<spider>/<job>.log (also $URL/logs/), scrapyd's own: $LOGFILE
Stop:   deploy/scrapyd.sh stop   (or: kill \$(cat $PIDFILE))
EOF
}

status() {
    if pid=$(running_pid); then
        echo "scrapyd is running (pid $pid) on $URL"
        if [ -n "${SCRAPYD_USERNAME:-}" ] && [ -n "${SCRAPYD_PASSWORD:-}" ]; then
            echo "daemonstatus.json: HTTP $(http_status daemonstatus.json)"
        fi
    else
        echo "scrapyd is not running"
        return 3
    fi
}

stop() {
    pid=$(running_pid) || { echo "scrapyd is not running"; rm -f "$PIDFILE"; return 0; }
    # Started with setsid, scrapyd leads its own process group, which holds its crawls:
    # signal the group, so the crawls stop too (SIGTERM is Scrapy's graceful stop: requests
    # in flight finish, maps not complete stay pending). Otherwise just scrapyd.
    if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" != "$pid" ]; then
        kill -TERM "$pid"
        wait_gone "kill -0 $pid" 30 || die "scrapyd (pid $pid) still running after 30 s"
        rm -f "$PIDFILE"
        echo "scrapyd stopped (pid $pid)"
        return 0
    fi
    kill -TERM "-$pid"
    if ! wait_gone "pgrep -g $pid" 60; then
        # A second SIGTERM is Scrapy's forced stop (a page that never answers would
        # otherwise hold a crawl for DOWNLOAD_TIMEOUT).
        echo "crawls still stopping after 30 s ($(pgrep -g "$pid" | tr '\n' ' ')): forcing them"
        kill -TERM "-$pid" 2>/dev/null || true
        wait_gone "pgrep -g $pid" 30 || die "still running after 45 s: $(pgrep -g "$pid" | tr '\n' ' ')"
    fi
    rm -f "$PIDFILE"
    echo "scrapyd and its crawls stopped (pid $pid)"
}

# wait_gone COMMAND HALF_SECONDS: wait while COMMAND succeeds; false if it still does.
wait_gone() {
    n=0
    while $1 >/dev/null 2>&1; do
        n=$((n + 1))
        [ "$n" -gt "$2" ] && return 1
        sleep 0.5
    done
    return 0
}

case ${1:-start} in
    start) start ;;
    deploy) deploy ;;
    status) status ;;
    stop) stop ;;
    *) die "usage: deploy/scrapyd.sh [start|deploy|status|stop]" ;;
esac
