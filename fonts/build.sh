#!/usr/bin/env bash
# Regenerates the SDF glyph ranges in this folder from Debian's Noto Sans TTFs.
# Needs: apt-get (Debian bookworm archive), npm, node >= 18. Writes only into fonts/.
# Usage: bash fonts/build.sh        (from anywhere; uses a temp dir for the work)
set -euo pipefail

FONTNIK_VERSION=0.7.7              # npm, ships a prebuilt linux-x64 native module
DEB_PACKAGE=fonts-noto-core        # Debian bookworm: 20201225-1 (Noto Sans 2.004)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
apt-get download "$DEB_PACKAGE" >/dev/null
dpkg -x "$DEB_PACKAGE"_*.deb x
ttf=x/usr/share/fonts/truetype/noto
npm init -y >/dev/null
npm install --no-audit --no-fund "fontnik@$FONTNIK_VERSION" >/dev/null
build=node_modules/fontnik/bin/build-glyphs

for style in Regular Bold; do
  stack="Noto Sans $style"
  mkdir -p "out/$stack"
  node "$build" "$ttf/NotoSans-$style.ttf" "out/$stack"
  # Drop ranges that hold no glyph (fontnik writes a ~30-byte header-only PBF for
  # each of them); the server answers a missing range with an empty 200.
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    for (const f of fs.readdirSync(dir)) {
      const b = fs.readFileSync(path.join(dir, f));
      // fontstack message: 0x0a len ...; inside it, glyph messages are field 3 (0x1a).
      let i = 2; while (b[i - 1] & 0x80) i++;          // skip varint length
      let hasGlyph = false;
      while (i < b.length) {
        const tag = b[i++]; let len = 0, shift = 0, c;
        do { c = b[i++]; len |= (c & 0x7f) << shift; shift += 7; } while (c & 0x80);
        if (tag === 0x1a) { hasGlyph = true; break; }
        i += len;
      }
      if (!hasGlyph) fs.unlinkSync(path.join(dir, f));
    }' "out/$stack"
  rm -rf "$here/$stack"
  mv "out/$stack" "$here/$stack"
  echo "$stack: $(ls "$here/$stack" | wc -l) ranges"
done
# The licence text (OFL.txt) is kept by hand; Debian's copy of it is in
# x/usr/share/doc/$DEB_PACKAGE/copyright (stanza "License: OFL-1.1").
