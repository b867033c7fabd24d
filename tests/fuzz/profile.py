"""One hypothesis setting for every fuzz test: a fixed, modest number of examples drawn the
same way on every run (derandomized, no example database), so CI sees the same inputs each
time and the whole set stays well under a minute on two cores."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # Fixtures (an emulator, a database) are shared by the examples of one test on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Slow properties (a real decoder, a real adapter behind an emulator) draw fewer examples.
FUZZ_SLOW = settings(FUZZ, max_examples=40)

# Any text a chat could deliver: every code point, lone surrogates included (JSON's "\ud800"
# decodes to one), weighted towards the characters prompts are made of.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
TEXT = st.text(ANY_CHAR, max_size=400) | st.text(
    st.sampled_from('abc XYZ@_:"“”/\n\t.#12-' + "\x00\x1b\u202e\ud800👩‍🚀é"), max_size=200
)
