#!/usr/bin/env bash
# Static analysis of the production Solidity contracts with Slither (see docs/SECURITY.md).
#
#   npm run slither [-- <extra slither flags>]      e.g. npm run slither -- --exclude-low
#
# Analyses contracts/**/*.sol except *.t.sol and contracts/testing/, as one solc standard-JSON
# compilation. There is no native solc here (and solc-select cannot download one), so crytic-compile
# is handed a small `solc` stand-in that runs the npm `solc` package's WebAssembly build — the
# compiler Hardhat uses. Hardhat 3's artifacts/build-info is not used: it holds one build per set of
# roots (tests and contracts/testing included) and may be stale or mid-rewrite.
#
# Slither is installed, pinned, into a virtualenv under ${GRIDMESH_CACHE_DIR:-$HOME/.cache/gridmesh}.
# Needs python3 (>= 3.10) with venv, pip access to PyPI, and node on PATH. Exits non-zero when there
# is a High finding (pass --fail-medium, --fail-low, --fail-pedantic or --fail-none to change that).
set -euo pipefail

SLITHER_VERSION=0.11.6
CRYTIC_COMPILE_VERSION=0.4.2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${GRIDMESH_CACHE_DIR:-$HOME/.cache/gridmesh}"
venv="$cache/slither-$SLITHER_VERSION"
python="${PYTHON:-python3}"

log() { printf '[slither] %s\n' "$*" >&2; }

command -v node >/dev/null || { log "error: node not found on PATH"; exit 1; }
[[ -f "$root/node_modules/solc/soljson.js" ]] || { log "error: run npm ci first (node_modules/solc missing)"; exit 1; }

if [[ ! -f "$venv/.installed" ]]; then
  log "installing slither-analyzer $SLITHER_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "slither-analyzer==$SLITHER_VERSION" "crytic-compile==$CRYTIC_COMPILE_VERSION"
  touch "$venv/.installed"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gridmesh-slither.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# `solc` stand-in: crytic-compile runs `solc --version`, then `solc --standard-json --allow-paths
# <dir>` with the input on stdin. (solcjs's own CLI rejects --allow-paths and prints a banner on
# stdout, hence this wrapper.) Imports resolve against the repository root, then node_modules.
cat >"$work/solc.cjs" <<'EOF'
const fs = require("fs");
const path = require("path");
const root = process.env.GRIDMESH_ROOT;
const solc = require(path.join(root, "node_modules", "solc"));
const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write(`solc stand-in: unsupported arguments: ${args.join(" ")}\n`);
  process.exit(2);
}
function findImports(importPath) {
  for (const base of [root, path.join(root, "node_modules")]) {
    const file = path.resolve(base, importPath);
    if (file.startsWith(root + path.sep) && fs.existsSync(file)) {
      return { contents: fs.readFileSync(file, "utf8") };
    }
  }
  return { error: `File not found: ${importPath}` };
}
fs.writeFileSync(1, solc.compile(fs.readFileSync(0, "utf8"), { import: findImports }));
EOF
cat >"$work/solc" <<EOF
#!/usr/bin/env bash
GRIDMESH_ROOT='$root' exec node '$work/solc.cjs' "\$@"
EOF
chmod +x "$work/solc"

# The standard-JSON input: the production sources, OpenZeppelin through node_modules, and the
# optimizer settings of hardhat.config.ts.
(cd "$root" && find contracts -name '*.sol' ! -name '*.t.sol' ! -path 'contracts/testing/*' | LC_ALL=C sort) \
  >"$work/sources.txt"
"$venv/bin/python" - "$work/sources.txt" "$work/input.json" <<'EOF'
import json, sys
sources = [line.strip() for line in open(sys.argv[1]) if line.strip()]
json.dump(
    {
        "language": "Solidity",
        "sources": {s: {"urls": [s]} for s in sources},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers"], "": ["ast"]}
            },
        },
    },
    open(sys.argv[2], "w"),
)
EOF
log "slither $SLITHER_VERSION on $(wc -l <"$work/sources.txt") files, solc $(node -p "require('$root/node_modules/solc/package.json').version") (WebAssembly)"

fail=(--fail-high)
for arg in "$@"; do [[ $arg == --fail-* || $arg == --no-fail-pedantic ]] && fail=(); done

status=0
(cd "$root" && "$venv/bin/slither" "$work/input.json" \
  --compile-force-framework solc-json \
  --solc "$work/solc" \
  --solc-working-dir "$root" \
  --filter-paths 'node_modules/' \
  "${fail[@]}" \
  --json "$work/results.json" \
  "$@") || status=$?

if [[ -s "$work/results.json" ]]; then
  "$venv/bin/python" - "$work/results.json" <<'EOF'
import collections, json, sys
data = json.load(open(sys.argv[1]))
if not data.get("success"):
    sys.exit(0)
found = collections.Counter(d["impact"] for d in data.get("results", {}).get("detectors", []))
levels = ["High", "Medium", "Low", "Informational", "Optimization"]
print("[slither] findings: " + ", ".join(f"{level} {found.get(level, 0)}" for level in levels), file=sys.stderr)
EOF
fi
exit "$status"
