#!/usr/bin/env bash
# Build the front-end assets into kb/static (git-ignored output).
# Needs node_modules: run `npm ci --no-audit --no-fund` first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

govuk="node_modules/govuk-frontend/dist/govuk"
if [[ ! -d "$govuk" ]]; then
  echo "build-assets: $govuk is missing; run 'npm ci --no-audit --no-fund' first" >&2
  exit 1
fi

build="kb/static/build"
mkdir -p "$build"

npx --no-install sass --pkg-importer=node --no-source-map --style=compressed --quiet-deps \
  assets/kb.scss "$build/kb.css"

cp "$govuk/govuk-frontend.min.js" "$build/"

if [[ -d "$govuk/assets/images" ]]; then
  rm -rf kb/static/govuk/images
  mkdir -p kb/static/govuk
  cp -R "$govuk/assets/images" kb/static/govuk/images
fi

echo "build-assets: wrote $build/kb.css and $build/govuk-frontend.min.js"
