#!/usr/bin/env bash
# Publish the demo team's shared documents into the mailbox of CONFIG: the supervisor
# policy (demo/policy.json: alice supervises), the knowledge articles (demo/knowledge,
# English and Chinese) and the reply templates with each queue's FAQ footer
# (demo/templates/<queue>/<lang>/<name>.txt, approved by alice). Once: a mailbox that
# already has articles is left alone.
#
#   scripts/demo-content.sh CONFIG            (BLENDESK_BIN: the CLI, default target/debug/blendesk)
#
# An article file starts with its `# Title`, then `<!-- tags: a, b -->` (removed before
# publishing).
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:?usage: scripts/demo-content.sh CONFIG}"
bin="${BLENDESK_BIN:-${CARGO_TARGET_DIR:-target}/debug/blendesk}"
bd() { "$bin" --config "$config" "$@"; }

# Read the list first: under pipefail, grep -q closing the pipe early can fail `bd`.
articles=$(bd knowledge list --json)
if [[ "$articles" == *'"article_id"'* ]]; then
  echo "demo-content: the knowledge base is already there"
  exit 0
fi
bd policy publish demo/policy.json >/dev/null

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
articles=0
for f in demo/knowledge/*.md; do
  tags="$(sed -n 's/^<!-- tags: \(.*\) -->$/\1/p' "$f")"
  grep -v '^<!-- tags: ' "$f" > "$tmp/article.md"
  bd knowledge publish "$tmp/article.md" --tags "$tags" >/dev/null
  articles=$((articles + 1))
done

templates=0
for dir in demo/templates/*/; do
  queue="$(basename "$dir")"
  if [ -f "$dir/footer.txt" ]; then
    bd template publish "$dir/footer.txt" --footer --queue "$queue" >/dev/null
    bd template approve "footer/$queue" >/dev/null
  fi
  for f in "$dir"*/*.txt; do
    [ -e "$f" ] || continue
    lang="$(basename "$(dirname "$f")")"
    name="$(basename "$f" .txt)"
    bd template publish "$f" --name "$name" --queue "$queue" --lang "$lang" >/dev/null
    bd template approve "$name" >/dev/null
    templates=$((templates + 1))
  done
done
echo "demo-content: policy, $articles articles, $templates templates (with footers) published"
