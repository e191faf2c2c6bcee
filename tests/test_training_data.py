"""`rasa data validate` is clean, apart from Rasa 3.6 not seeing responses used by forms and actions."""

from __future__ import annotations

import re
import subprocess
import sys

from bot.settings import ROOT

UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
# Rasa's convention for intents that only external events trigger (trigger_intent): nobody types them.
EXTERNAL_ONLY = re.compile(r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found in the NLU")


def used_outside_stories(response: str) -> bool:
    """Forms ask with utter_ask_<slot>; actions and the default fallback name responses in code."""
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "actions").rglob("*.py"))
    return response.startswith("utter_ask_") or f'"{response}"' in code or response in (
        "utter_default",  # Rasa's action_default_fallback
    )


def test_rasa_data_validate() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain", "--data", "nlu/data",
         "nlu/generated/lookups.yml", "stories"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    unexplained = [w for w in warnings if not EXTERNAL_ONLY.search(w)
                   and (not (m := UNUSED.search(w)) or not used_outside_stories(m.group(1)))]
    assert not unexplained, "\n".join(unexplained)


def test_no_entity_is_cut_by_tokenisation() -> None:
    import jieba

    from scripts.check_tokenisation import DATA, USER_DICT, cut_entities

    jieba.load_userdict(str(USER_DICT))
    assert cut_entities(DATA) == []
