#!/usr/bin/env bash
# Runs every fuzz test in the module for $FUZZTIME each (a count such as
# 100000x, or a duration). `go test -fuzz` accepts one fuzz test per run,
# so each is run on its own.
#
# A fuzz test whose executions are slow (a whole handler per input) caps
# its count with a directive on the line above its func, e.g.
#	//fuzz:budget 30000x
# so the per-commit run stays near ten seconds a target. The cap applies
# only while FUZZTIME is a count: a duration (make fuzz FUZZTIME=10m) digs
# every target for that long.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-200000x}

# budget prints the count to run fuzz test $2 of file $1 for.
budget() {
	local cap
	cap=$(grep -B1 -E "^func $2\(" "$1" | sed -nE 's#^//fuzz:budget ([0-9]+)x$#\1#p')
	if [[ -n "$cap" && "$FUZZTIME" =~ ^([0-9]+)x$ ]] && ((cap < BASH_REMATCH[1])); then
		echo "${cap}x"
	else
		echo "$FUZZTIME"
	fi
}

found=0
while IFS= read -r file; do
	dir=./$(dirname "$file")
	for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
		found=1
		time=$(budget "$file" "$name")
		echo "== $dir $name ($time)"
		"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$dir"
	done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' | xargs -r grep -l '^func Fuzz' || true)

if [ "$found" = 0 ]; then
	echo "no fuzz tests found"
fi
