"""Drawing Connect Four with pygame-ce.

:class:`Renderer` draws a :class:`~neuro_connect_four.game.RenderState` onto any
surface (a window, or an off-screen :class:`pygame.Surface`, which also works
with ``SDL_VIDEODRIVER=dummy``). All art is drawn in code: a blue board with round
holes, shaded red (person) and yellow (Neuro) discs, a preview disc above the
column under the mouse, the winning line highlighted, a status line and a speech
bubble. Curves are drawn at several times the size and scaled down smoothly, so
edges are anti-aliased. Only pygame's default font is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygame

from .board import COLUMNS, ROWS, Player

if TYPE_CHECKING:
    from .game import RenderState

__all__ = ["DISC_COLOURS", "Layout", "Renderer"]

Colour = tuple[int, int, int]

DISC_COLOURS: dict[Player, Colour] = {
    Player.HUMAN: (222, 38, 52),
    Player.NEURO: (250, 204, 40),
}
"""The main colour of each side's discs."""

_BACKGROUND_TOP: Colour = (30, 28, 58)
_BACKGROUND_BOTTOM: Colour = (70, 48, 96)
_BOARD_LIGHT: Colour = (52, 116, 230)
_BOARD_DARK: Colour = (22, 66, 170)
_TEXT: Colour = (245, 244, 250)
_TEXT_SHADOW: Colour = (10, 8, 24)
_HINT: Colour = (190, 186, 214)
_WIN_RING: Colour = (255, 255, 255)
_BUBBLE: Colour = (255, 250, 253)
_BUBBLE_EDGE: Colour = (236, 110, 170)
_BUBBLE_TEXT: Colour = (40, 30, 52)
_SUPERSAMPLE = 4


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    """Blend ``a`` towards ``b`` by ``t`` (0..1)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _shade(colour: Colour, amount: float) -> Colour:
    """Darken (``amount`` < 0) or lighten (> 0) a colour."""
    target: Colour = (0, 0, 0) if amount < 0 else (255, 255, 255)
    return _mix(colour, target, abs(amount))


@dataclass(frozen=True)
class Layout:
    """Where things go, computed from the surface size (about 700x700 intended)."""

    width: int
    height: int
    cell: int
    """Side of one board cell in pixels."""
    pad: int
    """Width of the board frame around the holes."""
    left: int
    """x of the left edge of column 1's cell."""
    top: int
    """y of the top edge of the top row's cell."""
    hole_radius: int
    disc_radius: int
    hover_y: int
    """y of the centre of the preview disc above the board."""
    status_y: int
    hint_y: int
    bubble_top: int

    @classmethod
    def for_size(cls, width: int, height: int) -> Layout:
        """Fit the board, header and preview row into ``width`` x ``height``."""
        cell = max(8, int(min(width * 0.78 / COLUMNS, height * 0.655 / ROWS)))
        pad = max(2, cell // 8)
        hole_radius = int(cell * 0.39)
        bottom = height - pad - max(4, height // 45)
        top = bottom - ROWS * cell
        return cls(
            width=width,
            height=height,
            cell=cell,
            pad=pad,
            left=(width - COLUMNS * cell) // 2,
            top=top,
            hole_radius=hole_radius,
            disc_radius=hole_radius + max(1, cell // 30),
            hover_y=top - pad - cell // 2 - 2,
            status_y=int(height * 0.045),
            hint_y=int(height * 0.088),
            bubble_top=int(height * 0.105),
        )

    @property
    def board_rect(self) -> pygame.Rect:
        """The board's frame, holes and border included."""
        return pygame.Rect(
            self.left - self.pad,
            self.top - self.pad,
            COLUMNS * self.cell + 2 * self.pad,
            ROWS * self.cell + 2 * self.pad,
        )

    def cell_center(self, column: int, row: int) -> tuple[int, int]:
        """Pixel centre of the 1-based cell ``(column, row)``, row 1 at the bottom."""
        x = self.left + (column - 1) * self.cell + self.cell // 2
        y = self.top + (ROWS - row) * self.cell + self.cell // 2
        return x, y

    def column_at(self, x: float) -> int | None:
        """Return the 1-based column whose strip contains ``x``, ``None`` outside."""
        if x < self.left:
            return None
        column = int((x - self.left) // self.cell) + 1
        return column if column <= COLUMNS else None


class Renderer:
    """Draws game states onto ``surface``.

    Sprites (board, discs, background) are built once per surface size and cached.
    Call :meth:`draw` every frame; call :meth:`column_at` to turn a mouse x into a
    column number for :meth:`Game.human_click`.
    """

    def __init__(self, surface: pygame.Surface) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.surface = surface
        self.layout = Layout.for_size(*surface.get_size())
        cell = self.layout.cell
        self._status_font = pygame.font.Font(None, max(12, int(cell * 0.58)))
        self._hint_font = pygame.font.Font(None, max(10, int(cell * 0.32)))
        self._bubble_font = pygame.font.Font(None, max(10, int(cell * 0.35)))
        self._background = self._make_background()
        self._board = self._make_board()
        self._discs = {p: self._make_disc(p, self.layout.disc_radius) for p in Player}
        icon_radius = max(4, cell // 5)
        self._icons = {p: self._make_disc(p, icon_radius) for p in Player}
        self._ring = self._make_ring()

    # -- public -----------------------------------------------------------------

    def column_at(self, x_pixel: float) -> int | None:
        """Return the 1-based column under the horizontal pixel ``x_pixel``."""
        return self.layout.column_at(x_pixel)

    def draw(self, state: RenderState) -> None:
        """Draw one whole frame of ``state``; the caller flips the display."""
        surface = self.surface
        layout = self.layout
        surface.blit(self._background, (0, 0))

        # Discs first: the board's front is drawn over them, so a falling disc
        # shows through the holes and the rims overlap the disc edges.
        falling = state.drop
        for cell, player in state.board.discs():
            if falling is not None and cell == falling.cell:
                continue
            self._blit_centered(self._discs[player], layout.cell_center(*cell))
        if falling is not None:
            x, target_y = layout.cell_center(*falling.cell)
            t = min(1.0, max(0.0, falling.progress))
            y = layout.hover_y + (target_y - layout.hover_y) * t * t
            self._blit_centered(self._discs[falling.player], (x, round(y)))

        surface.blit(self._board, layout.board_rect.topleft)

        if state.hover_column is not None and state.turn is not None:
            self._draw_hover(state.hover_column, state.turn)
        if not state.drop and state.board.winning_cells:
            self._draw_win(state)

        self._draw_header(state)
        if state.taunt:
            self._draw_bubble(state.speaker, state.taunt)

    # -- pieces of a frame ------------------------------------------------------

    def _blit_centered(self, sprite: pygame.Surface, center: tuple[int, int]) -> None:
        self.surface.blit(sprite, sprite.get_rect(center=center))

    def _draw_hover(self, column: int, player: Player) -> None:
        layout = self.layout
        x, _ = layout.cell_center(column, 1)
        stripe = pygame.Surface((layout.cell, ROWS * layout.cell), pygame.SRCALPHA)
        pygame.draw.rect(stripe, (255, 255, 255, 22), stripe.get_rect(), 0, layout.cell // 3)
        self.surface.blit(stripe, (x - layout.cell // 2, layout.top))
        ghost = self._discs[player].copy()
        ghost.set_alpha(235)
        self._blit_centered(ghost, (x, layout.hover_y))
        # A small arrow under the disc, pointing into the column.
        tip_y = layout.top - layout.pad - 2
        size = max(3, layout.cell // 12)
        pygame.draw.polygon(
            self.surface,
            _shade(DISC_COLOURS[player], 0.3),
            [(x - size, tip_y - size), (x + size, tip_y - size), (x, tip_y)],
        )

    def _draw_win(self, state: RenderState) -> None:
        layout = self.layout
        cells = state.board.winning_cells
        pulse = 0.5 + 0.5 * math.sin(state.time * 5.0)
        ends = [layout.cell_center(*cells[0]), layout.cell_center(*cells[-1])]
        if len(cells) >= 2 and _collinear(cells):
            line = pygame.Surface(self.surface.get_size(), pygame.SRCALPHA)
            pygame.draw.line(
                line, (255, 255, 255, 150), ends[0], ends[1], max(2, layout.cell // 10)
            )
            for end in ends:
                pygame.draw.circle(line, (255, 255, 255, 150), end, max(1, layout.cell // 20))
            self.surface.blit(line, (0, 0))
        ring = self._ring.copy()
        ring.set_alpha(round(200 + 55 * pulse))
        for cell in cells:
            self._blit_centered(ring, layout.cell_center(*cell))

    def _draw_header(self, state: RenderState) -> None:
        layout = self.layout
        colour = _TEXT
        if state.board.winner is not None:
            colour = _shade(DISC_COLOURS[state.board.winner], 0.35)
        text = self._status_font.render(state.status, True, colour)
        shadow = self._status_font.render(state.status, True, _TEXT_SHADOW)
        icon = self._icons[state.turn] if state.turn is not None else None
        gap = layout.cell // 6
        width = text.get_width() + (icon.get_width() + gap if icon else 0)
        x = (layout.width - width) // 2
        if icon is not None:
            self._blit_centered(icon, (x + icon.get_width() // 2, layout.status_y))
            x += icon.get_width() + gap
        rect = text.get_rect(midleft=(x, layout.status_y))
        self.surface.blit(shadow, rect.move(2, 2))
        self.surface.blit(text, rect)
        if state.hint:
            hint = self._hint_font.render(state.hint, True, _HINT)
            self.surface.blit(hint, hint.get_rect(center=(layout.width // 2, layout.hint_y)))

    def _draw_bubble(self, speaker: str, taunt: str) -> None:
        layout = self.layout
        font = self._bubble_font
        margin = layout.cell // 4
        line_height = font.get_linesize()
        max_width = COLUMNS * layout.cell - 2 * margin - layout.cell
        name = font.render(f"{speaker}:", True, _shade(_BUBBLE_EDGE, -0.25))
        name_width = name.get_width() + font.size(" ")[0]
        lines = _wrap(font, taunt, max_width, first_indent=name_width, max_lines=2)
        text_width = max(
            font.size(line)[0] + (name_width if i == 0 else 0) for i, line in enumerate(lines)
        )
        box = pygame.Rect(0, 0, text_width + 2 * margin, len(lines) * line_height)
        box.height += margin
        box.top = layout.bubble_top
        box.centerx = layout.width // 2 + layout.cell // 4
        # Shadow, body, outline and a tail pointing at a little Neuro disc.
        radius = min(box.height // 2, layout.cell // 3)
        icon = self._icons[Player.NEURO]
        icon_center = (box.left - icon.get_width(), box.centery)
        tail = [
            (box.left + 2, box.centery - margin // 2),
            (box.left + 2, box.centery + margin // 2),
            (icon_center[0] + icon.get_width() // 2 + 3, box.centery + margin // 3),
        ]
        shadow = pygame.Surface(box.inflate(8, 8).size, pygame.SRCALPHA)
        pygame.draw.rect(shadow, (0, 0, 0, 70), shadow.get_rect().inflate(-4, -4), 0, radius)
        self.surface.blit(shadow, box.move(3, 4).inflate(8, 8))
        pygame.draw.polygon(self.surface, _BUBBLE_EDGE, tail)
        pygame.draw.rect(self.surface, _BUBBLE, box, 0, radius)
        pygame.draw.rect(self.surface, _BUBBLE_EDGE, box, 2, radius)
        self._blit_centered(icon, icon_center)
        y = box.top + margin // 2
        for i, line in enumerate(lines):
            x = box.left + margin
            if i == 0:
                self.surface.blit(name, (x, y))
                x += name_width
            self.surface.blit(font.render(line, True, _BUBBLE_TEXT), (x, y))
            y += line_height

    # -- sprites ----------------------------------------------------------------

    def _make_background(self) -> pygame.Surface:
        width, height = self.surface.get_size()
        background = pygame.Surface((width, height))
        for y in range(height):
            colour = _mix(_BACKGROUND_TOP, _BACKGROUND_BOTTOM, y / max(1, height - 1))
            pygame.draw.line(background, colour, (0, y), (width, y))
        # A soft shadow under the board.
        rect = self.layout.board_rect
        shadow = pygame.Surface((rect.width + 40, rect.height + 40), pygame.SRCALPHA)
        for i in range(10):
            pygame.draw.rect(
                shadow,
                (0, 0, 0, 9),
                shadow.get_rect().inflate(-4 * i, -4 * i),
                0,
                self.layout.cell // 4 + 10 - i,
            )
        background.blit(shadow, rect.move(-14, -10).topleft)
        return background

    def _make_board(self) -> pygame.Surface:
        layout = self.layout
        ss = _SUPERSAMPLE
        rect = layout.board_rect
        big = pygame.Surface((rect.width * ss, rect.height * ss), pygame.SRCALPHA)
        # A vertical gradient, cut to a rounded rectangle.
        for y in range(big.get_height()):
            colour = _mix(_BOARD_LIGHT, _BOARD_DARK, y / big.get_height())
            pygame.draw.line(big, colour, (0, y), (big.get_width(), y))
        mask = pygame.Surface(big.get_size(), pygame.SRCALPHA)
        pygame.draw.rect(mask, (255, 255, 255, 255), mask.get_rect(), 0, layout.cell // 4 * ss)
        big.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MULT)
        # A thin lighter edge all around.
        pygame.draw.rect(
            big,
            _shade(_BOARD_LIGHT, 0.25),
            big.get_rect(),
            max(1, ss),
            layout.cell // 4 * ss,
        )
        hole = layout.hole_radius * ss
        bevel = max(2, layout.cell // 20) * ss
        for column in range(1, COLUMNS + 1):
            for row in range(1, ROWS + 1):
                cx, cy = layout.cell_center(column, row)
                center = ((cx - rect.left) * ss, (cy - rect.top) * ss)
                # Bevel: light below-right, dark above-left, then cut the hole.
                pygame.draw.circle(
                    big,
                    _shade(_BOARD_LIGHT, 0.35),
                    (center[0] + bevel // 3, center[1] + bevel // 2),
                    hole + bevel // 2,
                )
                pygame.draw.circle(
                    big,
                    _shade(_BOARD_DARK, -0.35),
                    (center[0] - bevel // 4, center[1] - bevel // 3),
                    hole + bevel // 2,
                )
                pygame.draw.circle(big, (0, 0, 0, 0), center, hole)
        return pygame.transform.smoothscale(big, rect.size)

    def _make_disc(self, player: Player, radius: int) -> pygame.Surface:
        ss = _SUPERSAMPLE
        base = DISC_COLOURS[player]
        size = 2 * radius * ss + 2 * ss
        big = pygame.Surface((size, size), pygame.SRCALPHA)
        c = (size // 2, size // 2)
        r = radius * ss
        pygame.draw.circle(big, _shade(base, -0.35), c, r)
        pygame.draw.circle(big, base, c, int(r * 0.92))
        # The moulded inner ring of a real disc: a dark groove, a light lip.
        pygame.draw.circle(big, _shade(base, -0.22), c, int(r * 0.68))
        pygame.draw.circle(big, _shade(base, 0.12), c, int(r * 0.62))
        pygame.draw.circle(big, base, (c[0] + r // 40, c[1] + r // 40), int(r * 0.6))
        # Soft highlight at the upper left.
        gloss = pygame.Surface((size, size), pygame.SRCALPHA)
        pygame.draw.ellipse(
            gloss,
            (255, 255, 255, 80),
            pygame.Rect(
                c[0] - int(r * 0.72),
                c[1] - int(r * 0.80),
                int(r * 0.95),
                int(r * 0.62),
            ),
        )
        pygame.draw.ellipse(
            gloss,
            (255, 255, 255, 110),
            pygame.Rect(
                c[0] - int(r * 0.55),
                c[1] - int(r * 0.68),
                int(r * 0.45),
                int(r * 0.28),
            ),
        )
        big.blit(gloss, (0, 0))
        return pygame.transform.smoothscale(big, (size // ss, size // ss))

    def _make_ring(self) -> pygame.Surface:
        ss = _SUPERSAMPLE
        radius = self.layout.disc_radius + max(2, self.layout.cell // 16)
        size = 2 * radius * ss + 2 * ss
        big = pygame.Surface((size, size), pygame.SRCALPHA)
        c = (size // 2, size // 2)
        width = max(2, self.layout.cell // 14) * ss
        pygame.draw.circle(big, _WIN_RING, c, radius * ss, width)
        return pygame.transform.smoothscale(big, (size // ss, size // ss))


def _collinear(cells: tuple[tuple[int, int], ...]) -> bool:
    """Whether all cells lie on one straight line (a single winning line)."""
    (x0, y0), (x1, y1) = cells[0], cells[-1]
    return all((x1 - x0) * (y - y0) == (y1 - y0) * (x - x0) for x, y in cells)


def _wrap(
    font: pygame.font.Font,
    text: str,
    width: int,
    *,
    first_indent: int = 0,
    max_lines: int = 2,
) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines that fit ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        indent = first_indent if not lines else 0
        if current and font.size(candidate)[0] + indent > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " \N{HORIZONTAL ELLIPSIS}"
    ellipsis = "\N{HORIZONTAL ELLIPSIS}"
    for i, line in enumerate(lines):
        indent = first_indent if i == 0 else 0
        while font.size(line)[0] + indent > width and len(line) > 1:
            line = line[:-2] + ellipsis
        lines[i] = line
    return lines
