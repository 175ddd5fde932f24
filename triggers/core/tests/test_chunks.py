from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from triggers.core.chunks import chunks


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=50), max_size=40),
    max_size=st.integers(min_value=1, max_value=60),
    max_count=st.none() | st.integers(min_value=1, max_value=5),
)
def test_groups_keep_order_and_stay_within_the_budget(
    sizes: list[int], max_size: int, max_count: int | None
) -> None:
    groups = list(chunks(sizes, size_of=lambda size: size, max_size=max_size, max_count=max_count))
    assert [size for group in groups for size in group] == sizes
    for group in groups:
        assert group
        assert len(group) == 1 or sum(group) <= max_size  # one oversized item stands alone
        assert max_count is None or len(group) <= max_count
    # as few groups as that allows: no group could have taken the next one's first item
    for group, following in itertools.pairwise(groups):
        full = max_count is not None and len(group) == max_count
        assert full or sum(group) + following[0] > max_size
