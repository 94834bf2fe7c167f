#!/usr/bin/env bash
# ci/demo-files.sh: makes the demo site's generated files (not committed), the same bytes on
# every machine: www/files/large.bin (8 MiB: SHA-256 of "HTTPower" + a 4-byte counter,
# repeated), made once; and the gzip variants www/app.js.gz and www/style.css.gz that
# --precompressed serves, made again whenever the original is newer. The three files of
# www/files/ get fixed modification times, so that its listing sorted by name, by size and by
# date gives three different orders (ci/browser.sh checks each). Used by ci/serve-demo.sh and
# ci/browser.sh, so both serve the same site.
set -euo pipefail
cd "$(dirname "$0")/.."
large=www/files/large.bin
if [ ! -f "$large" ]; then
  python3 -c "import sys,hashlib
out=open(sys.argv[1]+'.tmp','wb'); b=b'HTTPower'
for i in range(8*1024*1024//32): out.write(hashlib.sha256(b+i.to_bytes(4,'big')).digest())" "$large"
  mv "$large.tmp" "$large"
fi
for f in www/app.js www/style.css; do
  if [ ! -f "$f.gz" ] || [ "$f" -nt "$f.gz" ]; then
    python3 -c "import sys,gzip
open(sys.argv[1]+'.gz.tmp','wb').write(gzip.compress(open(sys.argv[1],'rb').read(), 9, mtime=0))" "$f"
    mv "$f.gz.tmp" "$f.gz"
  fi
done
touch -d '2026-01-01 00:00:00 UTC' www/files/large.bin
touch -d '2026-01-01 01:00:00 UTC' www/files/README.txt
touch -d '2026-01-01 02:00:00 UTC' www/files/checksums.txt
