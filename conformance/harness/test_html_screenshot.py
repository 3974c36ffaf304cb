#!/usr/bin/python3
"""test_html_screenshot.py - a failing rpb-conform HTML report as a browser
shows it (ctest conform_html_screenshot).

usage: test_html_screenshot.py RPB-CONFORM RPB-BROKER OUT-DIR

Runs the rate-limit cases and HEALTHZ against an rpb-broker that limits at
20 Hellos per 10 s (so broker/hello/rate-limit/exceeded fails), writes the
HTML report, has headless Chromium take a screenshot of its top and checks
what a reader sees first: the red headline and, below it, the Failures list
(the only other red text above the summary table).  The report and
OUT-DIR/html-report.png are kept for a look.

Exit status: 0 passed, 1 failed, 77 skipped (no Chromium installed).
"""
import os
import shutil
import struct
import subprocess
import sys
import zlib

SKIP = 77
RED = (0xB0, 0x00, 0x20)  # .headline.bad and .fail in report.c's style


def browser():
    for name in ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def png_rows(path):
    """The rows of an 8-bit RGB or RGBA non-interlaced PNG as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError("unsupported PNG layout")
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append((bytes(line), bpp))
        prev = line
    return width, rows


def red_rows(width, rows):
    """Indexes of the rows holding at least 20 headline-red pixels."""
    out = []
    for y, (line, bpp) in enumerate(rows):
        n = sum(1 for x in range(width) if tuple(line[x * bpp:x * bpp + 3]) == RED)
        if n >= 20:
            out.append(y)
    return out


def main():
    if len(sys.argv) != 4:
        print("usage: test_html_screenshot.py RPB-CONFORM RPB-BROKER OUT-DIR", file=sys.stderr)
        return 2
    conform, broker, out_dir = sys.argv[1:]
    chrome = browser()
    if not chrome:
        print("skipped: no Chromium installed (tools/install-deps --browser), so no screenshot can be taken")
        return SKIP
    os.makedirs(out_dir, exist_ok=True)
    html = os.path.join(out_dir, "html-report.html")
    png = os.path.join(out_dir, "html-report.png")
    spawn = "%s --socket {socket} --launch {services} --rate-limit 20/10000 --handshake-timeout 1000" % broker
    run = subprocess.run([conform, "broker", "--spawn", spawn, "--only", "broker/hello/rate-limit/",
                          "--only", "broker/admin/healthz", "--html", html],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 1:
        print("FAIL: expected rpb-conform to exit 1 (a failing run); it exited %d:\n%s" % (run.returncode, run.stdout))
        return 1
    if os.path.exists(png):
        os.unlink(png)
    shot = subprocess.run([chrome, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1200,900", "--screenshot=" + png, "file://" + os.path.abspath(html)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    if not os.path.exists(png):
        print("FAIL: %s wrote no screenshot (exit %d):\n%s" % (chrome, shot.returncode, shot.stdout))
        return 1
    width, rows = png_rows(png)
    red = red_rows(width, rows)
    # the headline is a red band: many consecutive rows of red pixels
    band = max((sum(1 for y in red if lo <= y < lo + 40) for lo in red), default=0)
    ok = True
    if band < 15:
        print("FAIL: no red headline band in the first screen (%d red rows in a 40-row window)" % band)
        ok = False
    with open(html, encoding="utf-8") as f:
        page = f.read()
    failures, summary = page.find("<h2>Failures</h2>"), page.find("<h2>Summary by area")
    if not 0 <= failures < summary or 'href="#c' not in page[failures:summary]:
        print("FAIL: the Failures list with links to its cases does not come before the summary")
        ok = False
    print("screenshot: %s (%d x %d, red headline band of %d rows)" % (png, width, len(rows), band))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
