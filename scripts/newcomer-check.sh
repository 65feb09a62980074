#!/usr/bin/env bash
# The README's two commands as a newcomer meets them: a fresh clone in a temporary folder, no environment
# variables but PATH and HOME, `npm ci`, `npm test`, then `npm start` and the README's curl line on one page.
# Prints the install time and size.
# Usage: bash scripts/newcomer-check.sh [--bare] [--skip-tests] [--strict] [--node 22|24]
#   --bare        hide what .ci/run installs from Debian (tesseract, fonts, Redis, Chromium, curl, poppler),
#                 in a private mount namespace (needs root), to see the loud skips a bare machine gets
#   --skip-tests  install and serve only
#   --strict      a test skipped for a missing system part fails (VISIONGATE_TEST_STRICT=1, as in CI)
#   --node N      run everything with Node.js N, taken from the npm registry (package node-<os>-<arch>@N), with
#                 this machine's npm: the other versions package.json's engines claim
set -euo pipefail
bare=0 tests=1 strict=0 node_major=
while [ $# -gt 0 ]; do
  case "$1" in
    --bare) bare=1 ;;
    --skip-tests) tests=0 ;;
    --strict) strict=1 ;;
    --node) node_major=${2:?--node needs a major version}; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d)
server=
# The server runs in a session of its own (setsid): killing that whole group stops node, not only npm above it.
cleanup() {
  if [ -n "$server" ]; then
    kill -- -"$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- -"$server" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$bare" = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "--bare needs root (unshare -m)" >&2; exit 2; }
  hide=$(mktemp -d)
  inner=$(mktemp)
  cat > "$inner" <<INNER
set -e
for d in /usr/share/fonts /usr/share/tesseract-ocr; do [ -d \$d ] && mount --bind "$hide" \$d; done
for b in /usr/bin/tesseract /usr/bin/redis-server /usr/bin/chromium /usr/bin/curl /usr/bin/pdftotext /usr/bin/pdftoppm /usr/bin/convert; do [ -e \$b ] && mount --bind /dev/null \$b; done
exec env -i PATH="$PATH" HOME="$HOME" bash "$(readlink -f "$0")" $([ "$tests" = 0 ] && echo --skip-tests) $([ "$strict" = 1 ] && echo --strict) ${node_major:+--node $node_major}
INNER
  exec unshare -m bash "$inner"
fi

say() { printf '\n== %s\n' "$*"; }
extra=()
if [ -n "$node_major" ]; then
  package=$(node -p "'node-' + process.platform + '-' + process.arch")
  mkdir "$work/node"
  (cd "$work/node" && npm init -y > /dev/null && npm install --no-audit --no-fund --silent "$package@$node_major")
  nodedir="$work/node/node_modules/$package"
  PATH="$nodedir/bin:$PATH"
  # better-sqlite3 compiles from source when no prebuilt binary can be fetched; node-gyp must take this Node's
  # headers (shipped in the package), not those of a system Node it finds first.
  extra+=("npm_config_nodedir=$nodedir")
fi
[ "$strict" = 1 ] && extra+=(VISIONGATE_TEST_STRICT=1)
clean() { env -i PATH="$PATH" HOME="$HOME" "${extra[@]}" "$@"; }

say "node $(node -v), npm $(npm -v), clone of $(git -C "$repo" rev-parse --short HEAD) in $work"
git clone -q "$repo" "$work/visiongate"
cd "$work/visiongate"

say "npm ci"
start=$(date +%s)
clean npm ci --no-audit --no-fund 2>&1 | tee "$work/npm-ci.log" | tail -n 5
ci_seconds=$(( $(date +%s) - start ))
if grep -q EBADENGINE "$work/npm-ci.log"; then echo "EBADENGINE warnings: see above" >&2; exit 1; fi
size=$(du -sm node_modules | cut -f1)
say "npm ci took ${ci_seconds} s; node_modules is ${size} MB"

if [ "$tests" = 1 ]; then
  say "npm test"
  start=$(date +%s)
  clean npm test 2>&1 | tail -n 25
  say "npm test took $(( $(date +%s) - start )) s"
fi

say "npm start"
if node -e "fetch('http://127.0.0.1:8000/health').then(() => process.exit(0), () => process.exit(1))"; then
  echo "something already answers on 127.0.0.1:8000; stop it first" >&2
  exit 1
fi
setsid env -i PATH="$PATH" HOME="$HOME" "${extra[@]}" npm start > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  if node -e "fetch('http://127.0.0.1:8000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then break; fi
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
grep -o '"msg":"Server listening at [^"]*"' "$work/server.log" | head -n 1

say "curl -F file=@scan.png http://127.0.0.1:8000/api/v1/ocr"
node --input-type=module -e "
  const { renderPage } = await import('./dist/test/fixtures/pages.js');
  const { writeFileSync } = await import('node:fs');
  writeFileSync('scan.png', await renderPage({ lines: ['A newcomer reads this page.', 'Nothing else was installed.'] }));
"
if command -v curl > /dev/null; then
  answer=$(curl -sS -F file=@scan.png http://127.0.0.1:8000/api/v1/ocr)
else
  echo "(no curl on this machine: the same multipart request with node's fetch)"
  answer=$(node -e "const fs=require('fs'); const f=new FormData(); f.append('file', new Blob([fs.readFileSync('scan.png')]), 'scan.png');
    fetch('http://127.0.0.1:8000/api/v1/ocr', { method: 'POST', body: f }).then(r => r.text()).then(t => process.stdout.write(t))")
fi
text=$(node -e "process.stdout.write(JSON.parse(process.argv[1]).text)" "$answer")
echo "$text"
case "$text" in
  *"newcomer reads this page"*) say "newcomer check passed" ;;
  *) echo "the page was not read: $answer" >&2; exit 1 ;;
esac
