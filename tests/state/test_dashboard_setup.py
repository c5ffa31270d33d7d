"""The Dashboard says "Setup complete" only when there is nothing left to fix."""

from humanic_app.state.dashboard import setup_complete


def test_setup_is_complete_only_with_every_step_done_and_no_finding():
    assert setup_complete(remaining=0, findings=0)
    assert not setup_complete(remaining=0, findings=2)  # steps done, but troubleshooting still lists problems
    assert not setup_complete(remaining=3, findings=0)
