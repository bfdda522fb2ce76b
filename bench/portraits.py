"""Portraits a person keeps: is the face still there after painting? Figures and contact sheets.

  python bench/portraits.py [--seeds 20] [--size 512] [--presets 3,7,17,20] [--gatys 3] [--face-strength F]
                            [--photos /work/shared/images] [--sheets /tmp]

The checker is a face detector of a different family than the one the portrait engine uses (RetinaFace, a CNN):
dlib's HOG + linear SVM frontal face detector (Dalal & Triggs 2005; dlib-bin, a bench-only dependency). It is
never tuned here: default threshold, one pyramid upsampling, the picture padded by 15% (replicated edges) because
a GAN face fills its frame and HOG windows need some margin. Figures:

- GAN portraits, fast engine: the share of painted portraits (seeds 0..N-1, each preset) where HOG finds a face,
  next to the share for the unpainted (upscaled) faces, at face_strength F and at 1 (the face painted like the
  rest, i.e. no face protection). Gatys portraits (a few seeds, each sample painting) likewise.
- Photo portraits (every photo in --photos where RetinaFace finds a face): for each preset and Gatys, the mean
  landmark shift between the painted face and the aligned crop (`urls.face`), in inter-ocular distances (goal
  <= 0.06; landmarks from RetinaFace: HOG gives boxes only, so this one is measured with the engine's own
  detector, said plainly), and the mean absolute difference from the crop on 0..1 (goal >= 0.08: visibly
  painted). The HOG box is also found or not on each.

Contact sheets (raw face | painted at F | painted at 1, per row) go to --sheets; look at them.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw, ImageOps  # noqa: E402

from worker.core import faces as facecore  # noqa: E402
from worker.core.images import to_tensor  # noqa: E402
from worker.engines import portrait  # noqa: E402

STYLES = ("starry_night.jpg", "shipwreck.jpg")  # sample paintings for Gatys (in --photos' folder)


def hog_finds(img: Image.Image, hog) -> bool:
    """dlib HOG on the picture padded by 15% of its side (edge pixels repeated)."""
    a = np.asarray(img.convert("RGB"))
    p = round(max(a.shape[:2]) * 0.15)
    a = np.pad(a, ((p, p), (p, p), (0, 0)), mode="edge")
    return len(hog(a, 1)) > 0


def sheet(rows: list[list[Image.Image]], labels: list[str], path: Path, cell: int = 192) -> None:
    out = Image.new("RGB", (cell * max(len(r) for r in rows), (cell + 14) * len(rows)), "white")
    d = ImageDraw.Draw(out)
    for i, (row, label) in enumerate(zip(rows, labels)):
        for j, im in enumerate(row):
            out.paste(ImageOps.fit(im.convert("RGB"), (cell, cell)), (j * cell, i * (cell + 14) + 14))
        d.text((2, i * (cell + 14)), label, fill="black")
    out.save(path)
    print(f"  sheet: {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--presets", default="3,7,17,20")
    ap.add_argument("--gatys", type=int, default=3, help="GAN seeds painted with Gatys per style (0: none)")
    ap.add_argument("--gatys-steps", type=int, default=None, help="Gatys steps (default: the engine's)")
    ap.add_argument("--face-strength", type=float, default=portrait.FACE_STRENGTH)
    ap.add_argument("--photos", default="/work/shared/images")
    ap.add_argument("--sheets", default="/tmp")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import dlib
    except ImportError:
        print("bench/portraits.py needs dlib-bin (requirements-dev.txt): pip install dlib-bin", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    hog = dlib.get_frontal_face_detector()
    presets = [int(p) for p in args.presets.split(",") if p]
    fs, size, sheets = args.face_strength, args.size, Path(args.sheets)
    print(f"face detector for checking: dlib {dlib.__version__} HOG frontal (not RetinaFace); size {size}, "
          f"face_strength {fs}")

    # --- GAN faces: the chosen face once per seed, then painted per preset ---------------------------------------
    t0 = time.perf_counter()
    raw = {s: portrait.run(s, preset=presets[0], size=size, device="cpu", face_strength=1.0).info
           for s in range(args.seeds)}
    print(f"GAN faces: {args.seeds} seeds ({time.perf_counter() - t0:.0f} s); HOG finds "
          f"{np.mean([hog_finds(i['face'], hog) for i in raw.values()]):.0%} of the unpainted faces; "
          f"candidates chosen {[i['candidate'] for i in raw.values()]}")
    orig_enlarge = portrait.enlarge
    faces = {s: i["face"] for s, i in raw.items()}
    for preset in presets:
        found = {fs: [], 1.0: []}
        rows, labels = [], []
        for s in range(args.seeds):
            # the engine re-enlarges the same face; reuse it (the same pixels) to keep the bench short
            portrait.enlarge = lambda raw_, size_, device_, s=s: faces[s]
            row = [faces[s]]
            for f in (fs, 1.0):
                out = portrait.run(s, preset=preset, size=size, device="cpu", face_strength=f)
                found[f].append(hog_finds(out, hog))
                row.append(out)
            if s < 6:
                rows.append(row)
                labels.append(f"seed {s} preset {preset}: face | face_strength {fs} | 1")
        portrait.enlarge = orig_enlarge
        print(f"fast preset {preset:2d}: HOG finds the face in {np.mean(found[fs]):.0%} at face_strength {fs} "
              f"({np.mean(found[1.0]):.0%} at 1)")
        sheet(rows, labels, sheets / f"portraits-fast-{preset}.png")

    photos = Path(args.photos)
    styles = [Image.open(photos / n).convert("RGB") for n in STYLES if (photos / n).exists()]
    if args.gatys and styles:
        found = {fs: [], 1.0: []}
        rows, labels = [], []
        for s in range(args.gatys):
            portrait.enlarge = lambda raw_, size_, device_, s=s: faces[s]
            for k, style in enumerate(styles):
                row = [faces[s]]
                for f in (fs, 1.0):
                    out = portrait.run(s, style, engine="gatys", size=size, device="cpu", face_strength=f)
                    found[f].append(hog_finds(out, hog))
                    row.append(out)
                rows.append(row)
                labels.append(f"seed {s} gatys {STYLES[k]}: face | face_strength {fs} | 1")
        portrait.enlarge = orig_enlarge
        print(f"gatys: HOG finds the face in {np.mean(found[fs]):.0%} at face_strength {fs} "
              f"({np.mean(found[1.0]):.0%} at 1), {len(found[fs])} portraits")
        sheet(rows, labels, sheets / "portraits-gatys.png")

    # --- photo portraits ----------------------------------------------------------------------------------------------
    det = portrait.detector(torch.device("cpu"))
    for path in sorted(photos.glob("*")):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg") or path.name in STYLES:
            continue
        photo = Image.open(path).convert("RGB")
        try:
            crop = portrait.photo_face(photo, size, "cpu")
        except portrait.NoFace:
            print(f"photo {path.name}: no face (NoFace)")
            continue
        ref = crop["landmarks"]
        runs = [(f"preset {p}", dict(preset=p)) for p in presets] + [(f"gatys {n}", dict(style=st, engine="gatys"))
                                                                       for n, st in zip(STYLES, styles)]
        rows, labels = [], []
        for name, kw in runs:
            row = [crop["face"]]
            for f in (fs, 1.0):
                out = portrait.run(photo=photo, size=size, device="cpu", face_strength=f, **kw)
                got = facecore.find(det, to_tensor(out), threshold=0.3)
                shift = facecore.shift(ref, got[0].landmarks) if got else float("nan")
                mad = float((to_tensor(out) - to_tensor(crop["face"])).abs().mean())
                print(f"photo {path.name} {name:24s} face_strength {f}: landmark shift {shift:.3f} IOD, "
                      f"mean abs diff {mad:.3f}, HOG {'finds' if hog_finds(out, hog) else 'misses'} the face")
                row.append(out)
            rows.append(row)
            labels.append(f"{path.name} {name}: crop | face_strength {fs} | 1")
        sheet(rows, labels, sheets / f"portraits-photo-{path.stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
