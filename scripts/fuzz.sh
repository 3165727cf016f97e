#!/usr/bin/env bash
# Runs every fuzz test in the module for $FUZZTIME each (a count such as
# 100000x, or a duration). `go test -fuzz`
# accepts one fuzz test per run, so each is run on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-200000x}

found=0
while IFS= read -r file; do
	dir=./$(dirname "$file")
	for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
		found=1
		echo "== $dir $name ($FUZZTIME)"
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir"
	done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' | xargs -r grep -l '^func Fuzz' || true)

if [ "$found" = 0 ]; then
	echo "no fuzz tests found"
fi
