"""`make gallery`: a small gallery of what the service makes, from the sample images in ../shared/images.

    .venv/bin/python bench/gallery.py [--only NAME ...] [--images ../shared/images]

Writes small JPEGs (<= 80 KB each) to docs/gallery/, a page docs/gallery/README.md with how each was made and the
sources' licences, and the table between the `<!-- gallery -->` markers at the top of README.md. A piece whose
engine is not there yet (e.g. the photo portrait or the print-size upscaler) is left out and named; run it again
once it exists and it is added. Renders on the CPU at modest sizes: a few minutes, most of it Gatys (8 on a
busy shared 2-core machine).
"""
from __future__ import annotations

import argparse
import inspect
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "gallery"
MAX_BYTES = 80_000
LONG_SIDE = 480
PHOTO, PAINTING, FACE = "chelsea.png", "starry_night.jpg", "astronaut.png"
PRESETS = ("Bold swirls", "Mosaic", "Stained glass")
LICENCES = {  # from ../shared/images/SOURCES.md
    "chelsea.png": "a cat, CC0, Stefan van der Walt (scikit-image sample data)",
    "starry_night.jpg": "Vincent van Gogh, The Starry Night (1889), public domain",
    "astronaut.png": "Eileen Collins, NASA portrait, public domain (NASA; scikit-image sample data)",
    "dcgan_faces": "the GAN face comes from the bundled DCGAN, trained on DigiFace-1M: research, non-commercial "
                   "use only, and the face inherits that",
}
MARK_START, MARK_END = "<!-- gallery -->", "<!-- /gallery -->"


class Missing(Exception):
    """A piece that needs an engine (or an option) that is not in this checkout yet."""


@dataclass
class Piece:
    file: str
    title: str
    how: str
    sources: tuple[str, ...]
    render: Callable


def open_image(images: Path, name: str):
    from PIL import Image

    return Image.open(images / name).convert("RGB")


def pieces(images: Path) -> list[Piece]:
    from worker.engines import fast

    photo = lambda: open_image(images, PHOTO)  # noqa: E731
    painting = lambda: open_image(images, PAINTING)  # noqa: E731

    def gatys():
        from worker.engines import gatys as engine

        return engine.run(photo(), [painting()], size=384)

    def preset(name):
        return lambda: fast.run(photo(), preset=name, size=512)

    def gan_portrait():
        from worker.engines import portrait

        return portrait.run(7, preset="Fine brushwork", size=384)

    def photo_portrait():
        from worker.engines import portrait

        if "photo" not in inspect.signature(portrait.run).parameters:
            raise Missing("portrait.run(photo=...) (the photo portrait) is not there yet")
        return portrait.run(None, painting(), photo=open_image(images, FACE), size=384)

    def print_crop():
        try:
            from worker.engines import upscale
        except ImportError:
            raise Missing("worker/engines/upscale.py (print-size upscaling) is not there yet") from None
        painted = fast.run(photo(), preset=PRESETS[0], size=512)
        w, h = painted.size  # 512 x 341: a 120 px square around the cat's left eye, enlarged 4x = what a print
        box = (int(w * 0.22), int(h * 0.22), int(w * 0.22) + 120, int(h * 0.22) + 120)  # at 2048 px shows there
        return upscale.run(painted.crop(box), 4)

    def vintage():
        from worker.engines import translate

        return translate.run(photo(), model="vintage", size=512)

    return [
        Piece("photo.jpg", "Photo", "the input", (PHOTO,), photo),
        Piece("painting.jpg", "Painting", "the style", (PAINTING,), painting),
        Piece("gatys.jpg", "Gatys", "`engine=gatys` (CLI defaults, 384 px)", (PHOTO, PAINTING), gatys),
        Piece("fast.jpg", "Fast, own style", "`engine=fast` with the painting as the style",
              (PHOTO, PAINTING), lambda: fast.run(photo(), painting(), size=512)),
        *[Piece(f"preset_{n.lower().replace(' ', '_')}.jpg", f"Preset: {n}", f"`engine=fast preset={n}` at its "
                "default strength", (PHOTO,), preset(n)) for n in PRESETS],
        Piece("vintage.jpg", "Vintage (CycleGAN)", "`engine=translate model=vintage`", (PHOTO,), vintage),
        Piece("gan_portrait.jpg", "GAN portrait", "`/api/portrait seed=7 preset=Fine brushwork`", ("dcgan_faces",),
              gan_portrait),
        Piece("photo_portrait.jpg", "Photo portrait", "`/api/portrait` with a photo, the painting as the style",
              (FACE, PAINTING), photo_portrait),
        Piece("print_crop.jpg", "Print size, 1:1 crop", "a 120 px crop of the Bold swirls result, `upscale=4`",
              (PHOTO,), print_crop),
    ]


def save_small(img, path: Path) -> int:
    """A JPEG of at most LONG_SIDE px and MAX_BYTES: the best quality that fits."""
    from PIL import Image

    img = img.convert("RGB")
    if max(img.size) > LONG_SIDE:
        scale = LONG_SIDE / max(img.size)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    for quality in range(90, 40, -5):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
        if buf.tell() <= MAX_BYTES:
            break
    path.write_bytes(buf.getvalue())
    return buf.tell()


def table(done: list[Piece], width: int = 4) -> str:
    """An HTML table (GitHub renders it in markdown): `width` pictures a row, each with its title beneath."""
    rows = []
    for i in range(0, len(done), width):
        cells = "".join(f'<td align="center"><img src="docs/gallery/{p.file}" width="200"><br>{p.title}</td>'
                        for p in done[i:i + width])
        rows.append(f"<tr>{cells}</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def write_pages(done: list[Piece], missing: list[tuple[Piece, str]]) -> None:
    used = sorted({s for p in done for s in p.sources})
    lines = ["# Gallery", "", "Rendered by `make gallery` (bench/gallery.py) from the sample images; re-run it to "
             "refresh. Each picture:", ""]
    lines += [f"- **{p.title}** ([{p.file}]({p.file})): {p.how}" for p in done]
    if missing:
        lines += ["", "Not rendered yet (the engine is not there): " + ", ".join(p.title for p, _ in missing) + "."]
    lines += ["", "Sources and licences:", ""] + [f"- {s}: {LICENCES[s]}" for s in used]
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start < 0 or end < start:
        print(f"README.md has no {MARK_START} ... {MARK_END} block; left alone", file=sys.stderr)
        return
    block = (f"{MARK_START}\n{table(done)}\n\nPhoto CC0 (Stefan van der Walt), painting and portrait photo public "
             "domain, the GAN face research/non-commercial (DigiFace-1M); how each was made: "
             f"[docs/gallery](docs/gallery/README.md).\n{MARK_END}")
    readme.write_text(text[:start] + block + text[end + len(MARK_END):])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=ROOT.parent / "shared" / "images")
    p.add_argument("--only", nargs="*", help="re-render only these files (e.g. vintage.jpg); keep the others")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    done, missing = [], []
    for piece in pieces(args.images):
        path = OUT / piece.file
        if args.only and piece.file not in args.only:
            if path.is_file():
                done.append(piece)
            continue
        t0 = time.perf_counter()
        try:
            size = save_small(piece.render(), path)
        except Missing as e:
            missing.append((piece, str(e)))
            print(f"{piece.file:28} skipped: {e}")
            if path.is_file():
                path.unlink()  # never a stale picture for a piece that cannot be made here
            continue
        done.append(piece)
        print(f"{piece.file:28} {size / 1000:5.1f} KB  {time.perf_counter() - t0:6.1f} s")
    write_pages(done, missing)
    print(f"{len(done)} pictures in {OUT.relative_to(ROOT)}; missing: {[p.file for p, _ in missing] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
