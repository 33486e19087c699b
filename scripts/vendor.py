"""Copy the browser files the door scanner needs from node_modules/ into static/vendor/.

`make install` runs `npm ci` (exact versions from package-lock.json), then this script, so the
page loads its QR decoder and the decoder's WebAssembly from our own server, never from a CDN.
The JavaScript names the SHA-256 of the wasm it was built for; a mismatch stops the install
rather than shipping a decoder that fails at the door. Licence texts travel with the files.

    python scripts/vendor.py [--root DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LICENSES = Path(__file__).resolve().parent / "licenses"

# (package, file inside the package, file name under static/vendor/<package>/)
FILES: tuple[tuple[str, str, str], ...] = (
    ("barcode-detector", "dist/es/ponyfill.js", "ponyfill.js"),
    ("barcode-detector", "dist/es/zxing-exported.js", "zxing-exported.js"),
    ("barcode-detector", "LICENSE", "LICENSE"),
    ("zxing-wasm", "dist/reader/zxing_reader.wasm", "zxing_reader.wasm"),
    ("zxing-wasm", "LICENSE", "LICENSE"),
)
# Ours, kept in scripts/licenses/: zxing-cpp (inside the wasm) is Apache-2.0 with a NOTICE.
OWN_NOTICES: tuple[tuple[str, str], ...] = (
    ("Apache-2.0.txt", "zxing-wasm/LICENSE-zxing-cpp"),
    ("zxing-cpp-NOTICE", "zxing-wasm/NOTICE"),
)


class VendorError(Exception):
    pass


def version(root: Path, package: str) -> str:
    manifest = root / "node_modules" / package / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except FileNotFoundError:
        raise VendorError(f"{manifest} is missing: run `npm ci` first") from None


def check_wasm_matches(root: Path) -> None:
    """The decoder's JavaScript embeds the SHA-256 of the wasm it expects."""
    modules = root / "node_modules"
    script = (modules / "barcode-detector/dist/es/zxing-exported.js").read_text()
    wasm = (modules / "zxing-wasm/dist/reader/zxing_reader.wasm").read_bytes()
    digest = hashlib.sha256(wasm).hexdigest()
    if digest not in set(re.findall(r'"([0-9a-f]{64})"', script)):
        raise VendorError(
            f"zxing_reader.wasm (sha256 {digest[:12]}…) is not the one barcode-detector "
            f"{version(root, 'barcode-detector')} was built for; reinstall with `npm ci`"
        )


def vendor(root: Path) -> list[Path]:
    """Copy the files, replacing what an earlier install left; return what was written."""
    check_wasm_matches(root)
    target = root / "static" / "vendor"
    written: list[Path] = []
    for package in sorted({package for package, _src, _dst in FILES}):
        shutil.rmtree(target / package, ignore_errors=True)
    for package, source, name in FILES:
        dst = target / package / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "node_modules" / package / source, dst)
        written.append(dst)
    for source, name in OWN_NOTICES:
        dst = target / name
        shutil.copyfile(LICENSES / source, dst)
        written.append(dst)
    versions = {package: version(root, package) for package in ("barcode-detector", "zxing-wasm")}
    manifest = target / "versions.json"
    manifest.write_text(json.dumps(versions, indent=2) + "\n")
    written.append(manifest)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: here)")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.root.resolve())
    except (VendorError, FileNotFoundError) as err:
        print(f"vendor: {err}", file=sys.stderr)
        return 1
    print(f"vendor: {len(written)} files in static/vendor/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
