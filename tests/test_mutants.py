"""The mutation list (tests/mutants.py) stays honest: every mutant names a line of today's code, once."""

from tests import mutants


def test_every_mutant_matches_exactly_one_line_of_todays_code():
    """A mutant whose line was edited away tests nothing: it must be updated or removed, not kept silently."""
    assert mutants.stale() == []


def test_every_mutant_has_a_known_class_and_a_unique_name():
    names = [m[1] for m in mutants.MUTANTS]
    assert len(names) == len(set(names))
    assert {m[0] for m in mutants.MUTANTS} <= set(mutants.CLASSES)
    assert all(len(m) == 6 for m in mutants.MUTANTS)
