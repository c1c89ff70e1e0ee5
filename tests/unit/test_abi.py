"""abi/ (written by `python -m vyopt.abi`, committed) matches the current Vyper sources."""
import json
import shutil

import pytest

from vyopt import abi

# the user-facing names issues 4 and 5 fix (a contract with users, keepers and auditors)
FIXED_NAMES = {
    "OptionsMarket": {"deposit", "withdraw", "list_series", "quote", "trade", "lp_deposit", "lp_withdraw", "position",
                      "account_value", "margin_requirements", "is_liquidatable", "liquidate", "settle_expiry",
                      "settle_account"},
    "RiskRegistry": {"implied_vol_at", "queue_param", "queue_smile", "queue_scenarios", "queue_role", "execute",
                     "cancel", "pause", "unpause"},
    "PriceOracle": {"update", "peek"},
}


@pytest.fixture(scope="module")
def rendered():
    return {n: abi.render(abi.abi_of(n)) for n in abi.DEPLOYABLES}


def test_abi_folder__after_any_source_change__matches_the_compiler(rendered):
    problems = abi.check(expected=rendered)
    assert problems == [], "abi/ is stale: run `make abi` (python -m vyopt.abi) and commit abi/\n" + "\n".join(problems)


def test_abi_files__fixed_user_facing_names__present(rendered):
    for name, fns in FIXED_NAMES.items():
        declared = {e["name"] for e in json.loads(rendered[name]) if e["type"] == "function"}
        assert fns <= declared, f"{name}: missing {sorted(fns - declared)}"


def test_abi_check__edited_missing_or_extra_file__reported(rendered, tmp_path):
    for n, text in rendered.items():
        (tmp_path / f"{n}.json").write_text(text)
    assert abi.check(tmp_path, expected=rendered) == []
    (tmp_path / "OptionsMarket.json").write_text(rendered["OptionsMarket"].replace('"trade"', '"trade2"'))
    (tmp_path / "PriceOracle.json").unlink()
    shutil.copy(tmp_path / "BlackScholes.json", tmp_path / "Old.json")
    assert abi.check(tmp_path, expected=rendered) == [
        "PriceOracle.json: missing", "OptionsMarket.json: differs from contracts/OptionsMarket.vy",
        "Old.json: not a deployable"]
