from train.r1 import pool_seed_sets


def test_pool_seed_sets_averages_each_task_over_the_sets():
    first = {"per_task": {"a": {"success": 0.5}, "b": {"success": 0.0}, "c": {"success": 1.0}}}
    second = {"per_task": {"a": {"success": 0.25}, "b": {"success": 1.0}, "c": {"success": 1.0}}}
    pooled = pool_seed_sets([first, second], ["a", "b"])
    assert pooled == {"a": 0.375, "b": 0.5}
    assert pool_seed_sets([first], ["c"]) == {"c": 1.0}
