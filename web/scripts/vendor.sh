#!/bin/sh
# vendor.sh refreshes the front-end files that web/static embeds. They come
# from the npm registry through npm itself (whatever registry npm is set up
# for), are checked in, and are served from the binary: no CDN at run time.
#
#   sh web/scripts/vendor.sh            # from the repository root
#
# Bump a version here, run the script, look at the diff, run the browser test.
set -eu
HTMX_VERSION=2.0.4
ECHARTS_VERSION=6.0.0 # charts: auditor statistics (issue 4), dashboard (issue 5)

here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null
tar -xzf htmx.org-"$HTMX_VERSION".tgz
cp package/dist/htmx.min.js "$here/static/htmx.min.js"
echo "htmx.org $HTMX_VERSION -> web/static/htmx.min.js"
npm pack --silent "echarts@$ECHARTS_VERSION" >/dev/null
rm -rf package && tar -xzf echarts-"$ECHARTS_VERSION".tgz
cp package/dist/echarts.min.js "$here/static/echarts.min.js"
echo "echarts $ECHARTS_VERSION -> web/static/echarts.min.js"
