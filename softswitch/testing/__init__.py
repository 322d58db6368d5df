"""The flow test kit: run a call flow against a simulated caller on a fake clock.

::

    result = await run_flow(my_flow, digits="1234#1", hangup_after=60)
    assert result.prompts[:2] == ("welcome", "enter_card")
    assert result.collected == ("1234", "1")
"""

from softswitch.testing.flow_tester import FlowResult, FlowStuck, FlowTester, run_flow

__all__ = ["FlowResult", "FlowStuck", "FlowTester", "run_flow"]
