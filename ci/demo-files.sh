#!/usr/bin/env bash
# ci/demo-files.sh: makes the demo site's generated file, www/files/large.bin (8 MiB of
# deterministic bytes: SHA-256 of "HTTPower" + a 4-byte counter, repeated; not committed),
# once. Used by ci/serve-demo.sh and ci/browser.sh, so both serve the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
large=www/files/large.bin
if [ ! -f "$large" ]; then
  python3 -c "import sys,hashlib
out=open(sys.argv[1]+'.tmp','wb'); b=b'HTTPower'
for i in range(8*1024*1024//32): out.write(hashlib.sha256(b+i.to_bytes(4,'big')).digest())" "$large"
  mv "$large.tmp" "$large"
fi
