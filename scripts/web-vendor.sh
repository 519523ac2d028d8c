#!/usr/bin/env bash
# Fills web/vendor/ from the npm registry (Plotly for the dashboard) and
# installs playwright-core for the browser test. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f node_modules/plotly.js-dist-min/plotly.min.js || ! -d node_modules/playwright-core ]]; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
mkdir -p web/vendor
if ! cmp -s node_modules/plotly.js-dist-min/plotly.min.js web/vendor/plotly.min.js; then
  cp node_modules/plotly.js-dist-min/plotly.min.js web/vendor/plotly.min.js
fi
