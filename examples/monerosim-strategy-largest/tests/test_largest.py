from monerosim_core.testing import load_strategy, make_miners


def test_the_largest_pool_always_wins() -> None:
    strategy = load_strategy("largest")  # the installed entry point, by name
    miners = make_miners([20, 50, 30])
    assert {strategy.select_miner(miners).agent_id for _ in range(20)} == {"miner-02"}
