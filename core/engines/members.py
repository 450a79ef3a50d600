"""The members of an ensemble: which predictions of the learned engine are combined, and in what
order (test-time augmentation: a model variant, its input mirrored or not, at a scale)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SettingError

__all__ = ["SECOND_SCALE", "Member", "plan_members"]

# The second working scale test-time augmentation uses, relative to the model's own.
SECOND_SCALE = 0.75


@dataclass(frozen=True)
class Member:
    """One prediction of an ensemble: a model variant, its input mirrored or not, at a scale."""

    variant: int
    flip: bool = False
    scale: float = 1.0


def plan_members(count: int, variants: int) -> tuple[Member, ...]:
    """The first ``count`` members: the first variant as is, mirrored, at the second scale and
    both, then the next variant the same way.

    The first variant's own augmentations come first because video is what this is for: the
    second shipped variant flickers 1.37x as much as the first on its own (vtest.avi, temporal
    filter off), so an ensemble of the two variants and a mirror flickered 4 % more than the
    first variant alone, while its augmentations flicker 4 % less. Distinct networks disagree
    more and gain more PSNR on photos (+0.14 dB instead of +0.05 for three members, 20 hints,
    held-out photos); ``ensemble=5`` and up bring them in (+0.23 dB).

    Raises:
        SettingError: more members asked for than ``variants`` models can make.
    """
    order = [(False, 1.0), (True, 1.0), (False, SECOND_SCALE), (True, SECOND_SCALE)]
    members = [Member(v, flip, scale) for v in range(variants) for flip, scale in order]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(members):
        raise SettingError(
            f"ensemble must be a whole number from 1 to {len(members)} ({variants} model "
            f"variant{'s' if variants > 1 else ''} x mirrored x 2 scales), not {count!r}"
        )
    return tuple(members[:count])
