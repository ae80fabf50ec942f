"""What every pre-screen answer must keep, whatever the input."""

from __future__ import annotations

from domain.legal_aid import NEED_ORDER, ScreeningResult

DISCLAIMER = ("以上为初步判断，最终以法律援助机构审查决定为准"
              "（《法律援助法》第四十三条：收到申请之日起7日内作出决定）")


def check_invariants(result: ScreeningResult) -> None:
    assert result.disclaimer == DISCLAIMER
    assert result.next_steps, "never a bare no: there is always a next step"
    assert "12348" in "".join(step.text for step in result.next_steps)
    everything = "".join([*result.reasons, *result.citations, *result.documents,
                          *(s.text for s in result.next_steps), result.decision_time,
                          result.urgent_path or "",
                          result.where_to_apply.text if result.where_to_apply else ""])
    # The 2003 国务院《法律援助条例》 is superseded; only the Jiangsu regulation may be cited.
    assert "《法律援助条例》" not in everything
    assert "第四十三条" in result.decision_time or "第三十六条" in result.decision_time
    assert result.rules_used
    assert list(result.needs) == sorted(result.needs, key=NEED_ORDER.index)
    assert len(set(result.needs)) == len(result.needs)
    if result.threshold is not None:
        assert any("第四十一条" in d for d in result.documents), "Art. 41 self-declaration"
