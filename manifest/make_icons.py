"""Draws the Teams app icons: `color.png` (192×192) and `outline.png` (32×32, white on
transparent). Run it after changing the drawing: `.venv/bin/python manifest/make_icons.py`.

The picture is a clipboard with a tick: an audit form, checked.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
ACCENT = (31, 111, 139, 255)  # #1F6F8B, the manifest's accentColor
WHITE = (255, 255, 255, 255)
SCALE = 4  # drawn large, then shrunk: smooth edges


def clipboard(draw: ImageDraw.ImageDraw, size: int, stroke: int, fill_board: bool) -> None:
    """A clipboard with its clip and a tick, centred in a `size` square."""
    s = size
    board = (s * 0.24, s * 0.18, s * 0.76, s * 0.86)
    clip = (s * 0.38, s * 0.11, s * 0.62, s * 0.25)
    radius = s * 0.06
    if fill_board:
        draw.rounded_rectangle(board, radius, fill=WHITE)
        draw.rounded_rectangle(clip, radius / 2, fill=ACCENT, outline=WHITE, width=stroke)
        tick_colour = ACCENT
    else:
        draw.rounded_rectangle(board, radius, outline=WHITE, width=stroke)
        draw.rounded_rectangle(clip, radius / 2, fill=WHITE)
        tick_colour = WHITE
    tick = [(s * 0.35, s * 0.53), (s * 0.46, s * 0.65), (s * 0.66, s * 0.41)]
    draw.line(tick, fill=tick_colour, width=int(stroke * 1.3), joint="curve")


def color_icon() -> Image.Image:
    size = 192 * SCALE
    image = Image.new("RGBA", (size, size), ACCENT)
    clipboard(ImageDraw.Draw(image), size, stroke=10 * SCALE, fill_board=True)
    return image.resize((192, 192), Image.Resampling.LANCZOS)


def outline_icon() -> Image.Image:
    size = 32 * SCALE
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    clipboard(ImageDraw.Draw(image), size, stroke=3 * SCALE, fill_board=False)
    small = image.resize((32, 32), Image.Resampling.LANCZOS)
    # Teams wants only white and transparency: keep the shape in the alpha channel alone.
    alpha = small.getchannel("A")
    white = Image.new("RGBA", (32, 32), WHITE)
    white.putalpha(alpha)
    return white


def main() -> None:
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
