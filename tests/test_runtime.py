import gc

import pytest

from humanic_app import runtime


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tuning_makes_young_collections_rarer_and_freezes_what_is_alive(restored_gc):
    gc.unfreeze()
    survivor = [object()]  # a container alive at startup, as the imported app is
    runtime.tune_garbage_collector()
    assert gc.get_threshold()[0] >= 10 * 700  # Python's default
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())  # frozen objects are left out of collections
